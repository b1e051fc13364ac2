import type { V1Status } from '@kubernetes/client-node';
import type { Finding, Verdict } from '../engine/index.js';
import { auditAnnotations } from './audit-annotations.js';
import { causeReason } from './cause-reasons.js';
import { tagged, taggedStandaloneMessage } from '../report/finding-text.js';
import type { AdmissionResponse } from './review.js';
import { MCPSERVER_RESOURCE } from '../engine/index.js';
import { admissionWarnings } from './warnings.js';

/** HTTP 422 Unprocessable Entity: what the API server itself answers for an invalid object. */
const INVALID_CODE = 422;

/** The answer for a request that is not ours to judge. */
export function allowedWithoutCheck(uid: string): AdmissionResponse {
  return { uid, allowed: true };
}

/**
 * Turns the engine's verdict into an admission response, shaped as the API server's own
 * `Invalid` errors are (like `apierrors.NewInvalid`), so every client shows it as it shows a
 * failed CRD validation: kubectl prints one line per cause, and Flux and Argo CD the message.
 */
export function judgedResponse(uid: string, verdict: Verdict, name: string): AdmissionResponse {
  const warnings = admissionWarnings(verdict.warnings);
  return {
    uid,
    allowed: verdict.allowed,
    ...(verdict.allowed ? {} : { status: invalidStatus(verdict.denials, name) }),
    ...(warnings.length > 0 ? { warnings } : {}),
    auditAnnotations: auditAnnotations(verdict),
  };
}

function invalidStatus(denials: readonly Finding[], name: string): V1Status {
  const { group, kind } = MCPSERVER_RESOURCE;
  // The engine orders findings by path, rule and message, so this text never flaps between syncs.
  const problems = denials.map(taggedStandaloneMessage);
  return {
    status: 'Failure',
    code: INVALID_CODE,
    reason: 'Invalid',
    message: `${kind}.${group} ${JSON.stringify(name)} is invalid: ${problems.join('; ')}`,
    details: {
      group,
      kind,
      name,
      causes: denials.map((finding) => ({
        reason: causeReason(finding.rule),
        // kubectl prints `field: message`, so the message does not repeat the field.
        message: tagged(finding.message, finding.rule),
        // A finding about the object as a whole has no field; Kubernetes leaves it out then.
        ...(finding.path ? { field: finding.path } : {}),
      })),
    },
  };
}
