import { parseAdmissionReview, reviewResponse, type AdmissionRequest, type AdmissionReviewResponse } from '../admission/review.js';
import { allowedWithoutCheck, judgedResponse } from '../admission/response.js';
import { triage } from '../admission/triage.js';
import { logDecision } from './decision-log.js';
import { judgeForRequest, type JudgeDependencies } from './judge.js';
import type { Decision } from '../telemetry/metrics.js';
import { objectMetadata, type Verdict } from '../engine/index.js';

/**
 * Answers one AdmissionReview: the only place where the admission protocol, the engine, the
 * metrics and the audit log meet. Throws AdmissionReviewError for a body that is not a review.
 * `receivedAt` is `process.hrtime.bigint()` at the request's arrival, so latency includes parsing.
 */
export function answerReview(body: unknown, receivedAt: bigint, deps: JudgeDependencies): AdmissionReviewResponse {
  const judged = judgeReview(body, deps);
  recordDecision(judged, receivedAt, process.hrtime.bigint(), deps);
  return judged.answer;
}

/** A review judged, with what its decision record needs. */
export interface JudgedReview {
  readonly answer: AdmissionReviewResponse;
  readonly request: AdmissionRequest;
  readonly scope: ReturnType<typeof triage>;
  readonly name: string;
  readonly verdict: Verdict | undefined;
}

/**
 * The answer to one review, without recording it: the server sends the answer first and
 * records it after (recordDecision), so that neither the metrics nor the log line stand
 * between a review and its answer.
 */
export function judgeReview(body: unknown, deps: JudgeDependencies): JudgedReview {
  const review = parseAdmissionReview(body);
  const { request } = review;
  const scope = triage(request);
  const name = objectName(request);
  // A dry run is judged exactly the same way: server-side dry runs (Flux uses them) must show
  // the real answer, and judging has no side effects. An UPDATE is judged against its old object
  // (ratcheting): what the change did not introduce does not deny.
  const verdict =
    scope === 'judge'
      ? judgeForRequest(
          {
            object: request.object,
            context: 'admission',
            namespace: request.namespace,
            ...(request.operation === 'UPDATE' ? { oldObject: request.oldObject } : {}),
            logFields: { uid: request.uid },
          },
          deps,
        )
      : undefined;
  const response = verdict ? judgedResponse(request.uid, verdict, name) : allowedWithoutCheck(request.uid);
  return { answer: reviewResponse(review, response), request, scope, name, verdict };
}

/**
 * Counts a judged review in the metrics and writes its decision line: one per review; then
 * looks for drift between the cluster's CRD and the webhook's schema in the object judged.
 * `answeredAt` is `process.hrtime.bigint()` when its answer was handed to the connection.
 */
export function recordDecision(judged: JudgedReview, receivedAt: bigint, answeredAt: bigint, deps: JudgeDependencies): void {
  const { request, scope, name, verdict } = judged;
  const decision: Decision = verdict === undefined ? 'skipped' : verdict.allowed ? 'allowed' : 'denied';
  const findings = verdict ? [...verdict.denials, ...verdict.warnings, ...verdict.audits] : [];
  const seconds = Number(answeredAt - receivedAt) / 1e9;
  deps.metrics.requests.inc({ operation: request.operation, decision });
  deps.metrics.duration.observe(seconds);
  for (const { rule, action, ratcheted } of findings) {
    deps.metrics.findings.inc({ rule, action });
    if (ratcheted) deps.metrics.ratchetedFindings.inc({ rule });
  }
  logDecision(deps.logger, {
    uid: request.uid,
    operation: request.operation,
    apiVersion: request.kind.group ? `${request.kind.group}/${request.kind.version}` : request.kind.version,
    kind: request.kind.kind,
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(name ? { name } : {}),
    ...(request.userInfo?.username ? { user: request.userInfo.username } : {}),
    dryRun: request.dryRun === true,
    decision,
    ...(scope === 'judge' ? {} : { skipReason: scope }),
    // Only where the server keeps a fleet view: without one, the rules across objects are not meant to run.
    ...(deps.fleet && verdict && verdict.unchecked.length > 0 ? { unchecked: verdict.unchecked } : {}),
    findings: findings.map(({ rule, path, action, preexisting, ratcheted }) => ({ rule, path, action, ...(preexisting ? { preexisting } : {}), ...(ratcheted ? { ratcheted } : {}) })),
    warnings: judged.answer.response.warnings ?? [],
    latencyMs: Math.round(seconds * 1e6) / 1e3,
  });
  // After the answer, like the rest of the record: no decision depends on drift.
  if (verdict) deps.drift.observe(request.object);
}

/** The name in the request, or in the object (a CREATE may carry it only there). */
function objectName(request: AdmissionRequest): string {
  return request.name || (objectMetadata(request.object).name ?? '');
}
