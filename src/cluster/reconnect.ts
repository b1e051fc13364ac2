import { errorFields } from '../telemetry/logger.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { ClusterError, type ClusterConnection } from './connection.js';
import type { FailureLog } from './failure-log.js';

/**
 * Finds the credentials, retrying with backoff while they cannot be had (a kubeconfig not mounted
 * yet, a service account token not there yet), until it works or `signal` aborts (undefined then).
 * Each reason is logged once, by `failures`.
 */
export async function connectWithBackoff(
  connect: () => ClusterConnection,
  failures: FailureLog,
  backoffOptions: BackoffOptions,
  signal: AbortSignal,
): Promise<ClusterConnection | undefined> {
  const backoff = new Backoff(backoffOptions);
  while (!signal.aborted) {
    try {
      const connection = connect();
      failures.succeeded('connection');
      return connection;
    } catch (error) {
      failures.failed('connection', error instanceof ClusterError ? error.message : errorFields(error).message);
      await sleep(backoff.next(), signal);
    }
  }
  return undefined;
}
