import { request as httpsRequest } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * What a Service does for the webhook's replicas, small enough to read: a TCP proxy on the
 * loopback address that sends each new connection to a replica whose `/readyz` answered 200 at
 * the last poll and which has not been taken out of the endpoints, and leaves every connection
 * where it was opened, as kube-proxy's connection tracking does. The API server pools its
 * connections by the Service's address, so it keeps sending reviews on a connection to a replica
 * long after that replica has left the endpoints: the situation of a rolling restart.
 *
 * Bytes are passed on unchanged (TLS runs end to end, between the API server and the replica),
 * and so are the ends of a connection: a replica's close reaches the API server as a close, and
 * a reset as a reset.
 */
export class ReadinessProxy {
  readonly #server: Server;
  readonly #backends = new Map<number, Backend>();
  readonly #connections = new Set<Socket>();
  readonly #timer: NodeJS.Timeout;
  #next = 0;

  private constructor(
    server: Server,
    private readonly ca: string,
    pollMs: number,
  ) {
    this.#server = server;
    this.#timer = setInterval(() => void this.#poll(), pollMs);
  }

  /** Listens on a free port of 127.0.0.1; `ca` verifies the replicas' certificate for the readiness polls. */
  static async start(ca: string, pollMs = 100): Promise<ReadinessProxy> {
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const proxy = new ReadinessProxy(server, ca, pollMs);
    server.on('connection', (client) => proxy.#forward(client));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** A new replica (a new pod): it gets connections once its `/readyz` answers 200. */
  add(port: number): void {
    this.#backends.set(port, { ready: false });
  }

  /**
   * Takes a replica out of the endpoints, as the endpoints controller does as soon as a pod is
   * deleted: no new connection goes to it; those already open stay.
   */
  remove(port: number): void {
    this.#backends.delete(port);
  }

  /** Resolves once the replica on `port` gets new connections. */
  async untilReady(port: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#backends.get(port)?.ready) {
      if (Date.now() > deadline) throw new Error(`the replica on port ${port} was not ready within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    for (const connection of this.#connections) connection.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A new connection goes to the next ready replica in turn; with none, it is refused (reset), as by kube-proxy. */
  #forward(client: Socket): void {
    const ready = [...this.#backends].filter(([, backend]) => backend.ready).map(([port]) => port);
    const port = ready[this.#next++ % Math.max(ready.length, 1)];
    if (port === undefined) return void client.resetAndDestroy();
    const upstream = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    this.#connections.add(client).add(upstream);
    // Each direction ends when its sender ends it; an error on either side resets the other.
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => resetUnlessClosed(upstream));
    upstream.on('error', () => resetUnlessClosed(client));
    client.on('close', () => this.#connections.delete(client));
    upstream.on('close', () => this.#connections.delete(upstream));
  }

  async #poll(): Promise<void> {
    await Promise.all(
      [...this.#backends].map(async ([port, backend]) => {
        backend.ready = await this.#isReady(port);
      }),
    );
  }

  /** GET /readyz on a new connection, as the kubelet probes: 200 within a second is ready. */
  #isReady(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/readyz', ca: this.ca, agent: false, timeout: 1000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end();
    });
  }
}

interface Backend {
  /** The last readiness poll answered 200. */
  ready: boolean;
}

function resetUnlessClosed(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}
