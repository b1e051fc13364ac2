import { validate, type Context, type NamespaceInfo, type Policy, type Verdict } from '../engine/index.js';
import { errorFieldsWithoutInput, type Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';

export interface JudgeDependencies {
  /** The policy in force now: it may be swapped by a reload between two requests. */
  readonly policy: () => Policy;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /**
   * The namespace with its labels, from the continuous audit's watch (--audit with a policy that
   * has label selectors). Without it a namespace is known by its name alone.
   */
  readonly namespaceInfo?: (name: string) => NamespaceInfo;
}

/**
 * Judges an object for a request (a review, a verdict): the policy in force, the namespace's
 * labels when known. A rule that throws is counted and logged, with `logFields` to find the
 * request and without the object, and the object is denied (the engine fails closed).
 */
export function judgeForRequest(
  object: unknown,
  context: Context,
  namespace: string | undefined,
  deps: JudgeDependencies,
  logFields: Readonly<Record<string, unknown>>,
): Verdict {
  const { policy, metrics, logger, namespaceInfo } = deps;
  return validate(object, {
    context,
    policy: policy(),
    ...(namespace ? { namespace: namespaceInfo?.(namespace) ?? { name: namespace } } : {}),
    onRuleError: (rule, error) => {
      metrics.ruleErrors.inc({ rule });
      // The message may quote the value the rule failed on: only its unquoted words are logged.
      logger.error({ event: 'rule-error', rule, ...logFields, error: errorFieldsWithoutInput(error) }, `rule ${rule} failed; the object was denied`);
    },
  });
}
