import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the fake API server was asked. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | undefined;
  /** Over TLS: the common name of the client certificate the request came with. */
  readonly clientCommonName?: string;
  readonly accept?: string;
  readonly contentType?: string;
  /** The body parsed as JSON; undefined when there was none. */
  readonly body?: unknown;
}

export type Answer =
  | {
      readonly status: number;
      /** JSON, or a string sent as text/plain. */
      readonly body: unknown;
    }
  | {
      /** A watch: 200, then one JSON event per line for as long as the stream stays open. */
      readonly stream: WatchStream;
    };

/** The open end of a watch, as kube-apiserver writes it: chunked, one `{"type":…,"object":…}` per line. */
export class WatchStream {
  private write: ((line: string) => void) | undefined;
  private finish: (() => void) | undefined;
  private readonly pending: string[] = [];
  private ended = false;
  /** Called once when the stream ends, from either side. */
  onEnd: (() => void) | undefined;

  send(type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR', object: unknown): void {
    const line = `${JSON.stringify({ type, object })}\n`;
    if (this.write) this.write(line);
    else this.pending.push(line);
  }

  /** The API server ends the watch, as it does after its timeout or when it shuts down. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.finish?.();
    this.onEnd?.();
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Used by the server: starts writing to the response. */
  attach(write: (line: string) => void, finish: () => void): void {
    this.write = write;
    this.finish = finish;
    for (const line of this.pending.splice(0)) write(line);
    if (this.ended) finish();
  }
}

export interface FakeApiServer {
  readonly url: string;
  /** A temporary folder holding `kubeconfig`, also fit to be HOME. */
  readonly dir: string;
  /** A kubeconfig whose only context points at this server with a bearer token. */
  readonly kubeconfig: string;
  readonly requests: RecordedRequest[];
  /** TCP connections clients opened to it so far. */
  connections(): number;
  close(): Promise<void>;
}

export const TOKEN = 'audit-test-token';
export const MCPSERVERS_PATH = '/apis/muster.giantswarm.io/v1alpha1/mcpservers';
export const NAMESPACES_PATH = '/api/v1/namespaces';

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`fixtures/${name}.json`, import.meta.url), 'utf8'));
}

const NOT_FOUND: Answer = { status: 404, body: fixture('status-404-not-found') };

/** Serving over TLS, as kube-apiserver does, and asking for a client certificate, as it does. */
export interface FakeTls {
  /** The serving certificate and key, PEM. */
  readonly cert: string;
  readonly key: string;
  /** The CA the kubeconfig trusts (PEM). */
  readonly ca: string;
  /** The client certificate and key the kubeconfig's user authenticates with, instead of a token. */
  readonly client: { readonly cert: string; readonly key: string };
}

/**
 * An in-process stand-in for kube-apiserver: `answer` picks the reply to each request, a
 * request it leaves unanswered gets the API server's 404 Status. Plain http with
 * insecure-skip-tls-verify and a bearer token, unless `tls` is given.
 */
export async function startFakeApiServer(answer: (request: RecordedRequest) => Answer | undefined, options: { tls?: FakeTls } = {}): Promise<FakeApiServer> {
  const requests: RecordedRequest[] = [];
  const { tls } = options;
  const server = (tls ? createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false }) : createServer()).on('request', async (incoming: IncomingMessage, response) => {
    const url = new URL(incoming.url ?? '/', 'http://fake');
    const text = await readBody(incoming);
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      authorization: incoming.headers.authorization,
      ...(tls ? { clientCommonName: clientCommonName(incoming) } : {}),
      ...(incoming.headers.accept ? { accept: incoming.headers.accept } : {}),
      ...(incoming.headers['content-type'] ? { contentType: incoming.headers['content-type'] } : {}),
      ...(text ? { body: parseJson(text) } : {}),
    };
    requests.push(request);
    const answered = answer(request) ?? NOT_FOUND;
    if ('stream' in answered) {
      const { stream } = answered;
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
      // kube-apiserver flushes the headers of a watch at once, before any event (serveWatch).
      response.flushHeaders();
      response.once('close', () => stream.close());
      stream.attach((line) => response.write(line), () => response.end());
      return;
    }
    const { status, body } = answered;
    response.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-cache, private' });
    response.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  let connections = 0;
  server.on(tls ? 'secureConnection' : 'connection', () => (connections += 1));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${await listen(server)}`;
  const dir = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-audit-'));
  return {
    url,
    dir,
    kubeconfig: tls ? writeTlsKubeconfig(dir, url, tls) : writeKubeconfig(dir, url),
    requests,
    connections: () => connections,
    close: () =>
      new Promise((resolve) => {
        // Open watches would keep the server from closing.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function clientCommonName(incoming: IncomingMessage): string | undefined {
  const socket = incoming.socket as TLSSocket;
  return socket.authorized ? String(socket.getPeerCertificate().subject?.CN ?? '') : undefined;
}

/** A kubeconfig that trusts the CA of `tls` and authenticates with its client certificate. */
function writeTlsKubeconfig(dir: string, server: string, tls: FakeTls): string {
  const base64 = (pem: string): string => Buffer.from(pem).toString('base64');
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
  - name: fake-cluster
    cluster:
      server: ${server}
      certificate-authority-data: ${base64(tls.ca)}
users:
  - name: fake-user
    user:
      client-certificate-data: ${base64(tls.client.cert)}
      client-key-data: ${base64(tls.client.key)}
contexts:
  - name: fake
    context:
      cluster: fake-cluster
      user: fake-user
current-context: fake
`,
  );
  return file;
}

/** The body as JSON, or as the text itself when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function readBody(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => (text += chunk));
    incoming.on('end', () => resolve(text));
  });
}

/** The bodies of a whole paged MCPServer list: page 1, then page 2 for page 1's continue token. */
export function pagedMCPServers(request: RecordedRequest): Answer | undefined {
  if (request.path !== MCPSERVERS_PATH) return undefined;
  const first = fixture('mcpserver-list-page-1');
  const token = (first.metadata as { continue: string }).continue;
  if (!request.query.continue) return { status: 200, body: first };
  return request.query.continue === token ? { status: 200, body: fixture('mcpserver-list-page-2') } : { status: 410, body: fixture('status-410-expired') };
}

/** Every MCPServer of both pages, as one unpaged list. */
export function allMCPServers(): unknown[] {
  return [fixture('mcpserver-list-page-1'), fixture('mcpserver-list-page-2')].flatMap((page) => page.items as unknown[]);
}

/** A kubeconfig for `server`. client-node sends plain http only with insecure-skip-tls-verify. */
export function writeKubeconfig(dir: string, server: string, name = 'kubeconfig', context = 'fake'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
  - name: ${context}-cluster
    cluster:
      server: ${server}
      insecure-skip-tls-verify: true
users:
  - name: ${context}-user
    user:
      token: ${TOKEN}
contexts:
  - name: ${context}
    context:
      cluster: ${context}-cluster
      user: ${context}-user
current-context: ${context}
`,
  );
  return file;
}

/** A local port with nothing listening on it: connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function listen(server: NetServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}
