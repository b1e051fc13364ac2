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
  /** Connections kept alive between requests (a stream of writes); default: a new connection for each. */
  readonly agent?: Agent;
}

export function request(endpoint: Endpoint, method: string, path: string, options: RequestOptions = {}): Promise<KubeAnswer> {
  const target = new URL(path, endpoint.url);
  for (const [name, value] of Object.entries(options.query ?? {})) target.searchParams.set(name, value);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const credentials = 'token' in endpoint.user ? { headers: { Authorization: `Bearer ${endpoint.user.token}` } } : { cert: endpoint.user.cert, key: endpoint.user.key, headers: {} };
  return new Promise((resolve, reject) => {
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
      (res) => {
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
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
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
