import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';

/**
 * Plain HTTPS to the API server, for what client libraries hide: the status code, the Status
 * body as sent, and each `Warning` header on its own (client-node folds them into one string).
 */

export interface Endpoint {
  readonly url: string;
  readonly ca: string;
  /** A client certificate, or a bearer token. */
  readonly user: { readonly cert: string; readonly key: string } | { readonly token: string };
}

export interface KubeAnswer {
  readonly status: number;
  /** The JSON body; undefined when it was not JSON (`/readyz` answers `ok`). */
  readonly body: any;
  readonly text: string;
  /** The text of each `Warning: 299 - "..."` header, in the order sent. */
  readonly warnings: string[];
}

export interface RequestOptions {
  readonly body?: unknown;
  /** Query parameters, such as `dryRun=All` or `fieldValidation=Strict`. */
  readonly query?: Readonly<Record<string, string>>;
  /** Default application/json; `application/merge-patch+json` and `application/json-patch+json` for PATCH. */
  readonly contentType?: string;
  /** A kept-alive pool to send on, as a client that reuses connections does; default a new connection each time. */
  readonly agent?: Agent;
}

export function request(endpoint: Endpoint, method: string, path: string, options: RequestOptions = {}): Promise<KubeAnswer> {
  return new Promise((resolve, reject) => {
    const req = send(endpoint, method, path, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body, text, warnings: (res.headersDistinct.warning ?? []).map(warningText) });
      });
    });
    req.on('error', reject);
  });
}

/** Sends one request and hands over the response as it streams in: for a watch, whose answer does not end. */
export function send(endpoint: Endpoint, method: string, path: string, options: RequestOptions, onResponse: (res: IncomingMessage) => void): ClientRequest {
  const target = new URL(path, endpoint.url);
  for (const [name, value] of Object.entries(options.query ?? {})) target.searchParams.set(name, value);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const credentials = 'token' in endpoint.user ? { headers: { Authorization: `Bearer ${endpoint.user.token}` } } : { cert: endpoint.user.cert, key: endpoint.user.key, headers: {} };
  const req = httpsRequest(
    target,
    {
      method,
      ca: endpoint.ca,
      ...('cert' in credentials ? { cert: credentials.cert, key: credentials.key } : {}),
      agent: options.agent ?? false,
      headers: {
        Accept: 'application/json',
        ...credentials.headers,
        ...(payload === undefined ? {} : { 'Content-Type': options.contentType ?? 'application/json' }),
      },
    },
    onResponse,
  );
  req.end(payload);
  return req;
}

/**
 * The text of a warning header as the API server writes it: `299 - "text"`, with `"` and `\`
 * escaped by a backslash (k8s.io/apimachinery/pkg/util/net/http.go, NewWarningHeader).
 */
export function warningText(header: string): string {
  const match = /^299 - "((?:[^"\\]|\\.)*)"/.exec(header);
  if (!match) throw new Error(`not a Kubernetes warning header: ${header}`);
  return (match[1] ?? '').replace(/\\(.)/g, '$1');
}
