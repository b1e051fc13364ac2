import { MCPSERVER_RESOURCE } from '../engine/index.js';
import { AdmissionReviewError, type AdmissionRequest } from './review.js';

/** Why a request is allowed without being checked; also the `reason` in the log. */
export type SkipReason = 'operation' | 'subresource' | 'other-resource' | 'terminating';

/**
 * Decides whether a request is ours to judge. Only writes of the main resource are: a DELETE
 * or CONNECT carries no new object, the status subresource is the controller's report, and any
 * other resource reaches us only through a too-broad webhook configuration. Those are allowed
 * at once, so a misconfiguration never blocks the cluster. So is an update that leaves the spec
 * of an object being deleted as it was (a controller removing its finalizer): judging it under a
 * newer policy could leave the object unable ever to finish deleting. A write of ours without an
 * object is not a review the API server sends: AdmissionReviewError.
 */
export function triage(request: AdmissionRequest): 'judge' | SkipReason {
  const { group, resource } = request.resource;
  if (group !== MCPSERVER_RESOURCE.group || resource !== MCPSERVER_RESOURCE.plural) return 'other-resource';
  if (request.subResource) return 'subresource';
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return 'operation';
  if (request.object === undefined || request.object === null) {
    throw new AdmissionReviewError(`request.object is required for ${request.operation}`);
  }
  if (request.operation === 'UPDATE' && isTerminating(request.object) && sameSpec(request.object, request.oldObject)) return 'terminating';
  return 'judge';
}

/** The API server alone sets deletionTimestamp; a client cannot put it there to skip the rules. */
function isTerminating(object: unknown): boolean {
  const metadata = (object as { metadata?: { deletionTimestamp?: unknown } }).metadata;
  return typeof metadata?.deletionTimestamp === 'string';
}

/** Both come from the API server's own serialization, so equal specs serialize equally. */
function sameSpec(object: unknown, oldObject: unknown): boolean {
  const specOf = (value: unknown): string | undefined => JSON.stringify((value as { spec?: unknown } | null | undefined)?.spec);
  if (oldObject === undefined || oldObject === null) return false;
  try {
    return specOf(object) === specOf(oldObject);
  } catch {
    // JSON.stringify recurses, and throws RangeError on a spec nested a few thousand levels
    // deep; such a spec is judged (the engine handles any depth) rather than answered with a 500.
    return false;
  }
}
