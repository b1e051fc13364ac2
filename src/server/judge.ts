import { schemaDrift, validate, type Context, type Fleet, type NamespaceInfo, type Policy, type Verdict } from '../engine/index.js';
import { errorFieldsWithoutInput, type Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';

export interface JudgeDependencies {
  /** The policy in force now: it may be swapped by a reload between two requests. */
  readonly policy: () => Policy;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** Remembers which drifted paths were logged already. */
  readonly drift: SchemaDriftLog;
  /**
   * The namespace with its labels, from the continuous audit's watch (--audit with a policy that
   * has label selectors). Without it a namespace is known by its name alone.
   */
  readonly namespaceInfo?: (name: string) => NamespaceInfo;
  /**
   * The other MCPServers of the cluster, from the fleet view's watch (--fleet, or --audit);
   * undefined while it has not synced. Absent: the server keeps no fleet view.
   */
  readonly fleet?: () => Fleet | undefined;
}

export interface JudgeRequest {
  readonly object: unknown;
  readonly context: Context;
  readonly namespace: string | undefined;
  /** The object before an UPDATE, for ratcheting. */
  readonly oldObject?: unknown;
  /** Fields that find the request in the log (never the object). */
  readonly logFields: Readonly<Record<string, unknown>>;
}

/**
 * Judges an object for a request (a review, a verdict): the policy in force, the namespace's
 * labels when known. A rule that throws is counted and logged, with `logFields` to find the
 * request and without the object, and the object is denied (the engine fails closed).
 */
export function judgeForRequest(request: JudgeRequest, deps: JudgeDependencies): Verdict {
  const { policy, metrics, logger, namespaceInfo } = deps;
  const fleet = deps.fleet?.();
  const { object, context, namespace, oldObject, logFields } = request;
  return validate(object, {
    context,
    policy: policy(),
    ...(namespace ? { namespace: namespaceInfo?.(namespace) ?? { name: namespace } } : {}),
    ...(oldObject === undefined ? {} : { oldObject }),
    ...(fleet ? { fleet } : {}),
    onRuleError: (rule, error) => {
      metrics.ruleErrors.inc({ rule });
      // The message may quote the value the rule failed on: only its unquoted words are logged.
      logger.error({ event: 'rule-error', rule, ...logFields, error: errorFieldsWithoutInput(error) }, `rule ${rule} failed; the object was denied`);
    },
  });
}

/** Paths logged at most; past it, drift is only counted (a stream of made-up fields cannot grow memory). */
const MAX_LOGGED_DRIFT_PATHS = 1000;

/**
 * Fields and values the API server accepted but the webhook's schema refuses mean that the
 * cluster's CRD is newer than the webhook. Not the user's mistake: never a denial or a warning,
 * but a metric and one log line per path, so operators know to upgrade the webhook.
 */
export class SchemaDriftLog {
  readonly #logged = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly metrics: WebhookMetrics,
  ) {}

  /** Checks an object the API server accepted against the webhook's schema; call it after answering. */
  observe(object: unknown): void {
    for (const { path, unknownField } of schemaDrift(object)) {
      const kind = unknownField ? 'unknown-field' : 'schema-violation';
      this.metrics.schemaDrift.inc({ kind });
      if (this.#logged.has(path) || this.#logged.size >= MAX_LOGGED_DRIFT_PATHS) continue;
      this.#logged.add(path);
      const what = unknownField ? `knows ${path}, which the webhook's schema does not` : `accepts a value of ${path} that the webhook's schema refuses`;
      this.logger.warn({ event: 'schema-drift', kind, path }, `the cluster's MCPServer CRD ${what}: the CRD is newer than the webhook; upgrade the webhook (nothing was denied)`);
    }
  }
}
