import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { HOST } from './harness.js';

export type SlowKind = 'headers' | 'body' | 'handshake';

/** A client that holds a connection open by sending almost nothing (slowloris). */
export interface SlowClient {
  readonly kind: SlowKind;
  /** Resolves with how long after its start the server closed the connection. */
  readonly closed: Promise<number>;
  isOpen(): boolean;
  destroy(): void;
}

/**
 * `headers`: a request whose header lines arrive one every `intervalMs` and never end; `body`: a
 * request whose headers are complete and whose body arrives a byte every `intervalMs`;
 * `handshake`: a TCP connection that never starts TLS.
 */
export function slowClient(kind: SlowKind, port: number, ca: string, intervalMs: number): SlowClient {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const trickle = (socket: Socket, first: string, next: string): void => {
    socket.write(first);
    timer = setInterval(() => socket.write(next), intervalMs);
  };
  let socket: Socket;
  if (kind === 'handshake') {
    socket = tcpConnect({ host: HOST, port });
  } else {
    socket = tlsConnect({ host: HOST, port, ca }, () => {
      if (kind === 'headers') trickle(socket, 'POST /validate HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: 1\r\n');
      else trickle(socket, 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{', ' ');
    });
  }
  socket.on('data', () => undefined);
  // A write after the server has closed fails; only the close matters here.
  socket.on('error', () => undefined);
  let open = true;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      open = false;
      clearInterval(timer);
      resolve(performance.now() - started);
    }),
  );
  return {
    kind,
    closed,
    isOpen: () => open,
    destroy: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
