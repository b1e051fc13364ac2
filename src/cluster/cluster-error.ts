import type { ClusterErrorKind } from '../telemetry/vocabulary.js';

/**
 * A failed cluster request, already explained in one line; never carries a stack trace to the user.
 * A module of its own so that code which must not load client-node (the kubeconfig) can throw it.
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
