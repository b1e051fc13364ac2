import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { ServingCertificate } from './certificates.js';

/**
 * Connection timeouts for the API server, which keeps connections to a webhook open and reuses
 * them. Its HTTP client drops idle connections after 90 s: closing them later than that means
 * the server never closes one just as the client sends a review on it. Node requires
 * headersTimeout > keepAliveTimeout (so an idle connection is never cut as headers start to
 * arrive) and requestTimeout >= headersTimeout.
 */
export const CONNECTION_TIMEOUTS = {
  keepAliveTimeout: 100_000,
  headersTimeout: 105_000,
  requestTimeout: 110_000,
} as const;

/** The TLS settings of the HTTPS listener, given again in full at each certificate reload. */
export function secureContextOptions(certificate: ServingCertificate, clientCa: string | undefined): SecureContextOptions {
  return {
    cert: certificate.cert,
    key: certificate.key,
    minVersion: 'TLSv1.2',
    ...(clientCa === undefined ? {} : { ca: clientCa }),
  };
}

/** HTTPS, and with a client CA, mutual TLS: a client without a certificate it signed is refused. */
export function createTlsListener(app: RequestListener, certificate: ServingCertificate, clientCa: string | undefined): HttpsServer {
  const requireClientCertificate = clientCa !== undefined;
  const server = createHttpsServer(
    { ...secureContextOptions(certificate, clientCa), requestCert: requireClientCertificate, rejectUnauthorized: requireClientCertificate },
    app,
  );
  return Object.assign(server, CONNECTION_TIMEOUTS);
}

export function createPlainListener(app: RequestListener): Server {
  return Object.assign(createHttpServer(app), CONNECTION_TIMEOUTS);
}

/** Listens and resolves with the bound address (the real port when 0 was asked for). */
export function listen(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting connections and lets every open one end by itself: the apps answer each
 * request from now on with `Connection: close` (see `UnansweredResponses`), so a client drops a
 * connection after its next answer. A kept-alive connection that is idle stays open: the client
 * (the API server's pool) may be writing a review on it at this very moment, and a close it meets
 * after writing is an `EOF` it does not retry, a refused write with `failurePolicy: Fail`. Only
 * after `graceMs` is whatever is still open cut, idle or not, so the process exits in bounded
 * time; by then a connection still idle has gone unused through the whole drain, which is when
 * its client is least likely to pick it (docs/reliability.md, "Rolling restarts").
 */
export async function closeGracefully(servers: readonly Server[], graceMs: number): Promise<void> {
  const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => stopAccepting(server, resolve))));
  const deadline = setTimeout(() => servers.forEach((server) => server.closeAllConnections()), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * Closes the listening socket alone; `done` is called once every connection has ended. Not
 * `server.close()`: since Node 19 it also closes the idle kept-alive connections at once, the
 * race above. Skipping it also leaves Node's check of `headersTimeout` and `requestTimeout`
 * running, through the drain and after: an unreferenced timer, which does not hold the process.
 */
function stopAccepting(server: Server, done: () => void): void {
  NetServer.prototype.close.call(server, () => done());
}
