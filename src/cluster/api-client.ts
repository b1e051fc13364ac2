import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';
import type { ClusterConnection } from './connection.js';

/**
 * The requests the continuous audit makes by the thousand (PolicyReports and Events written, read
 * and deleted), sent as JSON over plain node:https on one kept-alive pool per cluster and user.
 *
 * Why not client-node's generated clients for these: in @kubernetes/client-node 2.0.1 every call
 * goes through undici's fetch, web streams and the ObjectSerializer, about 3 ms of CPU per write on
 * the machines the project is measured on, and garbage that made V8 grow the heap by 100 MiB over a
 * first pass of a few thousand writes (docs/performance.md). The API is the same either way: a
 * path, a verb and a JSON body. What client-node is good at stays with it: the kubeconfig, the
 * credentials (tokens, token files it re-reads, exec plugins, client certificates, proxies), which
 * `applyToHTTPSOptions` resolves for each request here too, and the lists and watches.
 *
 * An answer other than 2xx rejects with client-node's own ApiException (code and body), and a
 * failed connection with a TypeError caused by the network error, as fetch does, so that
 * `toClusterError` explains both as it explains client-node's failures.
 */
export class ApiClient {
  constructor(private readonly connection: ClusterConnection) {}

  get(path: string): Promise<unknown> {
    return this.send('GET', path);
  }

  create(path: string, body: unknown): Promise<unknown> {
    return this.send('POST', path, JSON.stringify(body), 'application/json');
  }

  replace(path: string, body: unknown): Promise<unknown> {
    return this.send('PUT', path, JSON.stringify(body), 'application/json');
  }

  /** An RFC 6902 JSON patch, as client-node sends a patch by default. */
  jsonPatch(path: string, operations: readonly unknown[]): Promise<unknown> {
    return this.send('PATCH', path, JSON.stringify(operations), 'application/json-patch+json');
  }

  delete(path: string): Promise<unknown> {
    return this.send('DELETE', path);
  }

  private async send(method: string, path: string, body?: string, contentType?: string): Promise<unknown> {
    const { config, server } = this.connection;
    const target = new URL(path, server.endsWith('/') ? server : `${server}/`);
    // A server URL with a path (`https://host/k8s/clusters/c-1`, as Rancher hands out) keeps it.
    const basePath = new URL(server).pathname.replace(/\/$/, '');
    const resolved: RequestOptions = { headers: {} };
    await config.applyToHTTPSOptions(resolved);
    // applyToHTTPSOptions sets headers as an object (Authorization, Impersonate-User), never as a list.
    const headers: OutgoingHttpHeaders = { ...(resolved.headers as OutgoingHttpHeaders), accept: 'application/json' };
    if (body !== undefined) Object.assign(headers, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    const secure = target.protocol === 'https:';
    const request = (secure ? httpsRequest : httpRequest)({
      method,
      ...(resolved.auth ? { auth: resolved.auth } : {}),
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port || (secure ? 443 : 80),
      path: `${basePath}${path}`,
      headers,
      agent: poolFor(config, resolved, secure),
      timeout: REQUEST_TIMEOUT_MS,
    });
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      // As fetch fails, so that toClusterError tells a network failure from credentials that could not be made.
      request.once('error', (error) => reject(new TypeError(`${method} ${path} failed`, { cause: error })));
      request.once('timeout', () => request.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    });
    request.end(body);
    const response = await answer;
    const text = await readText(response).catch((error: unknown) => {
      throw new TypeError(`${method} ${path} failed`, { cause: error });
    });
    const code = response.statusCode ?? 0;
    if (code < 200 || code > 299) throw new ApiException(code, `HTTP-Code: ${code}`, text, flatHeaders(response));
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiException(code, 'the answer is not JSON', text, flatHeaders(response));
    }
  }
}

/** The pools, by KubeConfig and then by cluster and user: every ApiClient of a connection shares one. */
const pools = new WeakMap<KubeConfig, Map<string, HttpAgent>>();

/**
 * One kept-alive pool for the cluster and user, made with the TLS settings of the first request
 * (client-node, too, keeps the first agent it makes for a cluster and user). A kubeconfig that
 * names a proxy keeps the agent client-node made for it, which speaks to the proxy.
 */
function poolFor(config: KubeConfig, resolved: RequestOptions, secure: boolean): HttpAgent {
  if (config.getCurrentCluster()?.proxyUrl && resolved.agent instanceof HttpAgent) return resolved.agent;
  const byUser = pools.get(config) ?? new Map<string, HttpAgent>();
  pools.set(config, byUser);
  const key = JSON.stringify([config.getCurrentCluster()?.name ?? '', config.getCurrentUser()?.name ?? '']);
  const known = byUser.get(key);
  if (known) return known;
  const { ca, cert, key: privateKey, pfx, passphrase, rejectUnauthorized, servername } = resolved;
  const keepAlive = { keepAlive: true, keepAliveMsecs: KEEP_ALIVE_MS, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_SOCKETS, scheduling: 'lifo' } as const;
  const pool = secure
    ? new HttpsAgent({ ...keepAlive, ca, cert, key: privateKey, pfx, passphrase, servername, ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }) })
    : new HttpAgent(keepAlive);
  byUser.set(key, pool);
  return pool;
}

/** client-go's and client-node's TCP keep-alive probe interval. */
const KEEP_ALIVE_MS = 30_000;
/** Connections per cluster and user: more than the audit ever has in flight, few for the API server. */
const MAX_SOCKETS = 32;
/** A write that has had no answer for this long is failed and retried, never waited for forever. */
const REQUEST_TIMEOUT_MS = 30_000;

function readText(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}

function flatHeaders(response: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : String(value ?? '')]));
}
