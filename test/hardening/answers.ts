import { AdmissionReviewError, parseAdmissionReview } from '../../src/admission/review.js';
import { triage } from '../../src/admission/triage.js';
import { validate, type Finding } from '../../src/engine/index.js';
import type { HttpsAnswer } from '../server/child-server.js';

/** A denial or warning as a client can read it back from the answer: rule and field. */
function findingKey(rule: string, path: string): string {
  return `${rule}@${path}`;
}

function keysOf(findings: readonly Finding[]): string[] {
  return findings.map((finding) => findingKey(finding.rule, finding.path)).sort();
}

/** The rules a list of findings names, as the answer's audit annotations list them. */
function rulesOf(findings: readonly Finding[]): string | undefined {
  return findings.length === 0 ? undefined : [...new Set(findings.map((finding) => finding.rule))].sort().join(',');
}

interface ReviewAnswer {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly response?: {
    readonly uid?: unknown;
    readonly allowed?: unknown;
    readonly status?: { readonly code?: unknown; readonly details?: { readonly causes?: readonly { readonly field?: string; readonly message: string }[] } };
    readonly warnings?: unknown;
    readonly auditAnnotations?: Record<string, string>;
  };
}

/**
 * What is wrong with the answer to `body` (sent as JSON) compared with what this process makes
 * of it with the same code, or undefined when nothing is: a 400 for what is not a review the
 * webhook can answer, else a well-formed AdmissionReview in the same version with the same uid,
 * allowed without a check or with the engine's own verdict (allowed, the denials' rules and
 * fields, the rules that warned and audited).
 */
export function answerProblem(body: string, answer: HttpsAnswer): string | undefined {
  let sent: unknown;
  try {
    sent = body.trim() === '' ? undefined : JSON.parse(body);
  } catch {
    return answer.status === 400 && isErrorBody(answer.body) ? undefined : `expected 400 for malformed JSON, got ${answer.status} ${answer.body.slice(0, 200)}`;
  }
  let review;
  let scope;
  try {
    review = parseAdmissionReview(sent);
    scope = triage(review.request);
  } catch (error) {
    if (!(error instanceof AdmissionReviewError)) throw error;
    return answer.status === 400 && isErrorBody(answer.body) ? undefined : `expected 400 (${error.message}), got ${answer.status} ${answer.body.slice(0, 200)}`;
  }
  if (answer.status !== 200) return `expected 200, got ${answer.status} ${answer.body.slice(0, 200)}`;
  const got = JSON.parse(answer.body) as ReviewAnswer;
  const { uid } = review.request;
  if (got.apiVersion !== review.apiVersion || got.kind !== 'AdmissionReview') return `not an AdmissionReview of ${review.apiVersion}: ${answer.body.slice(0, 200)}`;
  if (got.response?.uid !== uid) return 'the uid is not echoed';
  if (scope !== 'judge') return got.response.allowed === true && got.response.status === undefined ? undefined : `a ${scope} request must be allowed without a check`;

  const { request } = review;
  const verdict = validate(request.object, {
    context: 'admission',
    ...(request.namespace ? { namespace: { name: request.namespace } } : {}),
    // An UPDATE is judged against the object it replaces (ratcheting).
    ...(request.operation === 'UPDATE' ? { oldObject: request.oldObject } : {}),
  });
  const { response } = got;
  if (response.allowed !== verdict.allowed) return `allowed is ${String(response.allowed)}, the engine says ${verdict.allowed}`;
  const causes = response.status?.details?.causes ?? [];
  const denials = causes.map((cause) => findingKey(/\[([a-z0-9-]+)\]$/.exec(cause.message)?.[1] ?? '?', cause.field ?? '')).sort();
  if (JSON.stringify(denials) !== JSON.stringify(keysOf(verdict.denials))) return `denials ${JSON.stringify(denials)}, the engine's ${JSON.stringify(keysOf(verdict.denials))}`;
  if (!verdict.allowed && response.status?.code !== 422) return 'a denial without status code 422';
  const annotations = response.auditAnnotations ?? {};
  for (const [key, findings] of [['warned-by', verdict.warnings], ['audited-by', verdict.audits]] as const) {
    if (annotations[key] !== rulesOf(findings)) return `${key} is ${annotations[key]}, the engine's ${rulesOf(findings)}`;
  }
  const warnings = Array.isArray(response.warnings) ? response.warnings.length : 0;
  if (warnings !== Math.min(verdict.warnings.length, 10)) return `${warnings} warnings, the engine has ${verdict.warnings.length}`;
  return undefined;
}

/** Errors are `{"error": "..."}` in a few words of our own. */
export function isErrorBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null && Object.keys(parsed).join() === 'error' && typeof (parsed as { error: unknown }).error === 'string';
  } catch {
    return false;
  }
}
