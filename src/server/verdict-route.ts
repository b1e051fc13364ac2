import { CONTEXTS, objectMetadata, type Context } from '../engine/index.js';
import { isPlainObject } from '../engine/schema.js';
import { verdictResult, type VerdictResult } from '../report/results.js';
import { RequestError } from './json-body.js';
import { judgeForRequest, type JudgeDependencies } from './judge.js';

export const VERDICT_PATH = '/v1/verdict';

/** The largest request the API server takes (3 MiB): no stored MCPServer is larger. */
export const MAX_VERDICT_BODY_BYTES = 3 * 1024 * 1024;

/**
 * `POST /v1/verdict?context=admission|manifest` with an MCPServer as the body: the engine's
 * verdict in the result contract of `validate --output json`, for the reconciler to set a
 * condition from. Any JSON object gets a verdict (an invalid MCPServer is denied, with reasons);
 * only a body that is no object, or an unknown context, is a 400 (a RequestError). In the
 * admission context, `record` looks for schema drift in the body once the answer has left.
 */
export function answerVerdict(body: unknown, query: string, deps: JudgeDependencies): { readonly answer: VerdictResult; readonly record?: () => void } {
  const contexts = new URLSearchParams(query).getAll('context');
  const context = contexts.length === 0 ? 'admission' : contexts.length === 1 ? contexts[0] : undefined;
  if (!CONTEXTS.includes(context as Context)) throw new RequestError(400, `context must be one of ${CONTEXTS.join(', ')}`);
  if (!isPlainObject(body)) throw new RequestError(400, 'the body must be a JSON object: an MCPServer');
  const { namespace, name } = objectMetadata(body);
  const verdict = judgeForRequest({ object: body, context: context as Context, namespace, logFields: { request: 'verdict', namespace, name } }, deps);
  const decision = verdict.allowed ? 'allowed' : 'denied';
  deps.metrics.verdictRequests.inc({ decision });
  // A reconciler asks on every reconcile: at info this would drown the admission decisions.
  deps.logger.debug(
    { event: 'verdict', context, namespace, name, decision, rules: [...verdict.denials, ...verdict.warnings, ...verdict.audits].map((finding) => finding.rule) },
    `verdict ${decision} for ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`,
  );
  // An object the reconciler read from the cluster passed the cluster's CRD: what our schema
  // refuses in it is drift, looked for after the answer, as at admission.
  return { answer: verdictResult(verdict), ...(context === 'admission' ? { record: () => deps.drift.observe(body) } : {}) };
}
