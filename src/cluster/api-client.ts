import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RequestAuth, ResolvedRequest } from './request-auth.js';

/**
 * Every request the webhook makes to the API server: JSON over plain node:http(s), on one
 * kept-alive connection pool per cluster and user, authenticated by the connection's RequestAuth.
 *
 * Why not @kubernetes/client-node's generated clients: importing them costs about 50 MiB of RSS
 * and 40 MB of heap (its config.js loads the whole generated API), and in 2.0.1 every call goes
 * through undici's fetch, web streams and the ObjectSerializer, about 3 ms of CPU a write and
 * garbage enough to make V8 grow the heap by 100 MiB over a first pass of a few thousand writes
 * (docs/performance.md). The API is small either way: a path, a verb, a JSON body, and for a
 * watch one JSON event per line.
 *
 * An answer other than 2xx rejects with an ApiError (its code and body), a failed connection
 * with a TypeError caused by the network error, as fetch fails, so that `toClusterError`
 * explains both.
 */
export class ApiClient {
  private readonly auth: RequestAuth;
  private readonly target: { readonly secure: boolean; readonly protocol: string; readonly hostname: string; readonly port: string | number; readonly basePath: string };

  /** `server`: the API server's URL; `auth`: how requests to it authenticate (ClusterConnection has both). */
  constructor(connection: { readonly server: string; readonly auth: RequestAuth }) {
    this.auth = connection.auth;
    const url = new URL(connection.server);
    const secure = url.protocol === 'https:';
    this.target = {
      secure,
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (secure ? 443 : 80),
      // A server URL with a path (`https://host/k8s/clusters/c-1`, as Rancher hands out) keeps it.
      basePath: url.pathname.replace(/\/$/, ''),
    };
  }

  get(path: string, options: { readonly query?: Query; readonly accept?: string } = {}): Promise<unknown> {
    return this.send('GET', withQuery(path, options.query), { accept: options.accept });
  }

  create(path: string, body: unknown): Promise<unknown> {
    return this.send('POST', path, { body: JSON.stringify(body), contentType: 'application/json' });
  }

  replace(path: string, body: unknown): Promise<unknown> {
    return this.send('PUT', path, { body: JSON.stringify(body), contentType: 'application/json' });
  }

  /** An RFC 6902 JSON patch, as client-node sends a patch by default. */
  jsonPatch(path: string, operations: readonly unknown[]): Promise<unknown> {
    return this.send('PATCH', path, { body: JSON.stringify(operations), contentType: 'application/json-patch+json' });
  }

  delete(path: string): Promise<unknown> {
    return this.send('DELETE', path);
  }

  /**
   * A watch (`?watch=true`): each line the API server writes is one `{"type", "object"}` event,
   * handed to `onEvent` as it arrives. The stream is ended by `abort()`, by the API server, or
   * when it has been silent for WATCH_SILENCE_MS (then `ended` says `silent`: client-go's
   * watches, too, are ended by a timeout and started again). `ended` never rejects.
   */
  watch(path: string, query: Query, onEvent: (type: string, object: unknown) => void, accept?: string): { readonly ended: Promise<WatchEnd>; abort(): void } {
    let request: ClientRequest | undefined;
    let aborted = false;
    const ended = (async (): Promise<WatchEnd> => {
      try {
        const { response, request: sent } = await this.open('GET', withQuery(path, { ...query, watch: 'true' }), { streaming: true, ...(accept ? { accept } : {}) });
        request = sent;
        if (aborted) sent.destroy();
        const code = response.statusCode ?? 0;
        if (code !== 200) return { error: new ApiError(code, await readText(response).catch(() => '')) };
        const end = await readEvents(response, sent, onEvent);
        return aborted ? { reason: 'closed' } : end;
      } catch (error) {
        return aborted ? { reason: 'closed' } : { error };
      }
    })();
    return {
      ended,
      abort: () => {
        aborted = true;
        request?.destroy();
      },
    };
  }

  private async send(method: string, path: string, options: { body?: string; contentType?: string; accept?: string } = {}): Promise<unknown> {
    const { response } = await this.open(method, path, options);
    const text = await readText(response).catch((error: unknown) => {
      throw new TypeError(`${method} ${path} failed`, { cause: error });
    });
    const code = response.statusCode ?? 0;
    if (code < 200 || code > 299) throw new ApiError(code, text);
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(code, text, 'the answer is not JSON');
    }
  }

  /** Sends the request; resolves once the answer's head has arrived. */
  private async open(
    method: string,
    path: string,
    options: { body?: string; contentType?: string; accept?: string; streaming?: boolean },
  ): Promise<{ response: IncomingMessage; request: ClientRequest }> {
    const { secure, protocol, hostname, port, basePath } = this.target;
    const resolved = await this.auth.resolve();
    const headers: OutgoingHttpHeaders = { ...resolved.headers, accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) Object.assign(headers, { 'content-type': options.contentType, 'content-length': Buffer.byteLength(options.body) });
    const request = (secure ? httpsRequest : httpRequest)({
      method,
      protocol,
      hostname,
      port,
      path: `${basePath}${path}`,
      headers,
      agent: resolved.proxyAgent ?? poolFor(this.auth, resolved, secure),
      // A watch may rightly stay quiet for minutes between events: its own silence timer ends it.
      ...(options.streaming ? {} : { timeout: REQUEST_TIMEOUT_MS }),
    });
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      // As fetch fails, so that toClusterError tells a network failure from credentials that could not be made.
      request.once('error', (error) => reject(new TypeError(`${method} ${path} failed`, { cause: error })));
      request.once('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    });
    request.end(options.body);
    return { response: await answer, request };
  }
}

/** An answer of the API server other than 2xx: its status code and body (a metav1.Status, mostly). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: number,
    readonly body: string,
    message = `the API server answered ${code}`,
  ) {
    super(message);
  }
}

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** How a watch ended: `closed` by either side, `silent` for too long, or an error (an ApiError for an answer other than 200). */
export type WatchEnd = { readonly reason: 'closed' | 'silent' } | { readonly error: unknown };

/** A watch that has sent nothing for this long, not even a bookmark, is ended and started again (client-node's Watch: 30 s). */
const WATCH_SILENCE_MS = 30_000;

/** client-go's and client-node's TCP keep-alive probe interval. */
const KEEP_ALIVE_MS = 30_000;
/** Connections per cluster and user: more than the audit ever has in flight, few for the API server. */
const MAX_SOCKETS = 32;
/** A request that has had no answer for this long is failed and retried, never waited for forever. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The pools, by the connection's RequestAuth: every ApiClient of a connection shares one. */
const pools = new WeakMap<RequestAuth, HttpAgent>();

/** One kept-alive pool for the cluster and user, made with the TLS settings of its first request. */
function poolFor(auth: RequestAuth, resolved: ResolvedRequest, secure: boolean): HttpAgent {
  const known = pools.get(auth);
  if (known) return known;
  const keepAlive = { keepAlive: true, keepAliveMsecs: KEEP_ALIVE_MS, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' } as const;
  const pool = secure ? new HttpsAgent({ ...keepAlive, ...resolved.tls }) : new HttpAgent(keepAlive);
  pools.set(auth, pool);
  return pool;
}

function withQuery(path: string, query: Query = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}

/** Hands each line of a watch to `onEvent`, until the stream ends or stays silent too long. */
function readEvents(response: IncomingMessage, request: ClientRequest, onEvent: (type: string, object: unknown) => void): Promise<WatchEnd> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (end: WatchEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(silence);
      resolve(end);
    };
    const silence = setTimeout(() => {
      finish({ reason: 'silent' });
      request.destroy();
    }, WATCH_SILENCE_MS);
    let partial = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      silence.refresh();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (settled) return;
        if (line.trim() === '') continue;
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as { type?: unknown; object?: unknown };
        } catch (error) {
          request.destroy();
          return finish({ error: new TypeError('the watch sent a line that is not JSON', { cause: error }) });
        }
        onEvent(String(event.type), event.object);
      }
    });
    response.once('end', () => finish({ reason: 'closed' }));
    response.once('error', (error) => finish({ error: new TypeError('the watch failed', { cause: error }) }));
    response.once('close', () => finish({ reason: 'closed' }));
  });
}
