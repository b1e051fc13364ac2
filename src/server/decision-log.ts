import type { Action } from '../engine/index.js';
import type { Operation } from '../telemetry/vocabulary.js';
import type { SkipReason } from '../admission/triage.js';
import type { Logger } from '../telemetry/logger.js';
import type { Decision } from '../telemetry/metrics.js';

/**
 * The audit record of one admission decision. It names the request, the rules that fired and
 * where, and never carries a field's value: no header, no token, not the object itself.
 */
export interface DecisionRecord {
  readonly uid: string;
  readonly operation: Operation;
  /** The object's `group/version` (just the version for the core group) and kind. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly user?: string;
  readonly dryRun: boolean;
  readonly decision: Decision;
  /** Why a request was allowed without a check. */
  readonly skipReason?: SkipReason;
  /**
   * `preexisting`: on an UPDATE, the old object had the same finding; `ratcheted`: a denial let
   * through for that reason (its action is what it became).
   */
  readonly findings: readonly {
    readonly rule: string;
    readonly path: string;
    readonly action: Exclude<Action, 'off'>;
    readonly preexisting?: true;
    readonly ratcheted?: true;
  }[];
  readonly warnings: readonly string[];
  /** Rules across objects that did not run: the fleet view had not synced yet. */
  readonly unchecked?: readonly string[];
  readonly latencyMs: number;
}

export function logDecision(logger: Logger, record: DecisionRecord): void {
  const where = record.namespace ? `${record.namespace}/${record.name ?? ''}` : (record.name ?? '');
  logger.info({ event: 'admission', ...record }, `${record.decision} ${record.operation} ${record.kind} ${where}`.trimEnd());
}
