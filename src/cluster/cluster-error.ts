import type { ClusterErrorKind } from '../telemetry/vocabulary.js';

/**
 * A failed cluster request, already explained in one line; never carries a stack trace to the user.
 * A module of its own so that kubeconfig.ts, which connection.ts imports, can throw it too.
 */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';

  constructor(
    readonly kind: ClusterErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** The first line of an error's message: what a one-line explanation quotes of a cause. */
export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
