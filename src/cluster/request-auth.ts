import type { Agent } from 'node:http';

/** The TLS settings of a cluster and user, as the connection pool is made with them. */
export interface TlsSettings {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** false with `insecure-skip-tls-verify`; absent otherwise. */
  readonly rejectUnauthorized?: boolean;
  /** `tls-server-name`. */
  readonly servername?: string;
}

/** What one request to the API server carries, resolved afresh for each (a token file re-read, an exec plugin's token renewed). */
export interface ResolvedRequest {
  /** `Authorization` (Bearer or Basic), `Impersonate-User`, ...: never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly tls: TlsSettings;
  /** The agent for a proxy the kubeconfig names (`proxy-url`); the shared pool is not used then. */
  readonly proxyAgent?: Agent;
}

/**
 * How requests of one cluster and user authenticate: one per connection, and requests that share
 * it share one connection pool (api-client.ts). Rejects with an Error whose message says what
 * could not be produced (an exec plugin that failed, an unreadable token file), never a credential.
 */
export interface RequestAuth {
  resolve(): Promise<ResolvedRequest>;
}
