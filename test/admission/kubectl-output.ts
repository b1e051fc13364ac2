/**
 * What clients print when the webhook answers, built from the real engine and the real admission
 * response, so that the documentation's examples and the answers to recorded reviews are checked
 * in the words people read. The shapes are kubectl's own (test/recorded/kubectl-transcript.txt).
 */
import type { AdmissionResponse } from '../../src/admission/review.js';
import { judgedResponse } from '../../src/admission/response.js';
import { validate } from '../../src/engine/index.js';

/** The name the chart registers the webhook under; the API server quotes it in denials. */
export const WEBHOOK_NAME = 'mcpservers.muster.giantswarm.io';

function answer(object: unknown) {
  const name = (object as { metadata?: { name?: string } }).metadata?.name ?? '';
  return judgedResponse('uid', validate(object, { context: 'admission' }), name);
}

/**
 * kubectl's lines: `Warning: ...` for each warning, then, for a denial (an Invalid status with
 * causes), `The Kind "name" is invalid: field: message` for one cause, or that heading and one
 * `* field: message` line per cause (kubectl's checkErr and MultilineError).
 */
export function kubectlLines(response: AdmissionResponse): string[] {
  const warnings = (response.warnings ?? []).map((warning) => `Warning: ${warning}`);
  const details = response.status?.details;
  if (response.allowed || !details) return warnings;
  const heading = `The ${details.kind} "${details.name}" is invalid:`;
  const causes = (details.causes ?? []).map((cause) => (cause.field ? `${cause.field}: ${cause.message}` : `${cause.message}`));
  return causes.length === 1 ? [...warnings, `${heading} ${causes[0]}`] : [...warnings, heading, ...causes.map((cause) => `* ${cause}`)];
}

/** What kubectl prints when it writes `object` (admission with the built-in policy). */
export function kubectlOutput(object: unknown): string[] {
  return kubectlLines(answer(object));
}

/** The error message the API server returns (and Flux and Argo CD show) for a denied object. */
export function deniedMessage(object: unknown): string {
  return `admission webhook "${WEBHOOK_NAME}" denied the request: ${answer(object).status?.message ?? ''}`;
}
