import { INTERNAL_ERROR_RULE, MCPSERVER_RESOURCE, RULES, type ActionTable, type Finding, type Verdict } from '../engine/index.js';
import { isPlainObject } from '../engine/schema.js';
import { compareText } from '../engine/verdict.js';
import { standaloneMessage } from '../report/finding-text.js';
import { POLICY_REPORTS } from './cluster.js';

/**
 * The content of the `wgpolicyk8s.io/v1alpha2` PolicyReport the continuous audit keeps in each
 * namespace with MCPServers: one result per MCPServer and rule the policy applies, so that report
 * UIs (Policy Reporter, Kyverno's) show what complies as well as what does not. Pure: the writer
 * (policy-report-writer.ts) talks to the API server.
 */

/** The report's name, every result's `policy` and `source`, and the value of its managed-by label. */
export const REPORT_NAME = 'mcpserver-webhook';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export const RESULT_VALUES = ['pass', 'fail', 'warn', 'error', 'skip'] as const;
export type ResultValue = (typeof RESULT_VALUES)[number];

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

export interface PolicyReportResult {
  readonly policy: string;
  readonly rule: string;
  readonly result: ResultValue;
  /** Absent on a pass: there is nothing to say. */
  readonly message?: string;
  readonly resources: readonly [ObjectReference];
  readonly source: string;
  /** False for a `skip`: an audit-only finding does not count against compliance. */
  readonly scored: boolean;
  /** metav1.Timestamp: since when the result has been what it is. */
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
}

export type UnstampedResult = Omit<PolicyReportResult, 'timestamp'>;
export type Summary = Readonly<Record<ResultValue, number>>;

export interface PolicyReport {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly resourceVersion?: string;
  };
  readonly summary: Summary;
  readonly results: readonly PolicyReportResult[];
}

/** One MCPServer as the audit judged it. */
export interface AuditedObject {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly verdict: Verdict;
  /** What the policy makes of each rule for this object's namespace. */
  readonly actions: ActionTable;
  /** Rules that threw on this object (the engine denied it for them). */
  readonly failedRules: ReadonlySet<string>;
}

/** A deny finding fails, a warning warns, an audit-only finding is a `skip` with its message. */
const RESULT_OF_ACTION = { deny: 'fail', warn: 'warn', audit: 'skip' } as const satisfies Record<Finding['action'], ResultValue>;

/** The object's results, one per rule whose action is not `off`, in rule ID order. */
export function objectResults(object: AuditedObject): UnstampedResult[] {
  const { group, version, kind } = MCPSERVER_RESOURCE;
  const resources = [{ apiVersion: `${group}/${version}`, kind, name: object.name, namespace: object.namespace, uid: object.uid }] as const;
  const findings = [...object.verdict.denials, ...object.verdict.warnings, ...object.verdict.audits];
  const unchecked = findings.filter((finding) => finding.rule === INTERNAL_ERROR_RULE);
  if (unchecked.length > 0 && object.failedRules.size === 0) {
    // The engine denied the object without running the rules: none of them passed, one error says why.
    const message = unchecked.map(standaloneMessage).join('; ');
    return [{ policy: REPORT_NAME, rule: INTERNAL_ERROR_RULE, resources, source: REPORT_NAME, result: 'error', message, scored: true }];
  }
  return RULES.filter((rule) => (object.actions.get(rule.id) ?? 'off') !== 'off')
    .map((rule): UnstampedResult => {
      const base = { policy: REPORT_NAME, rule: rule.id, resources, source: REPORT_NAME };
      if (object.failedRules.has(rule.id)) {
        return { ...base, result: 'error', message: `the rule ${rule.id} failed to run on this object, so the webhook denies it; the error is in the webhook's log`, scored: true };
      }
      const own = findings.filter((finding) => finding.rule === rule.id);
      const first = own[0];
      if (!first) return { ...base, result: 'pass', scored: true };
      const result = RESULT_OF_ACTION[first.action];
      return { ...base, result, message: own.map(standaloneMessage).join('; '), scored: result !== 'skip' };
    })
    .sort(compareResults);
}

/**
 * The namespace's report for these results. A result that has not changed since `previous` keeps
 * its timestamp, so that an unchanged report is byte for byte the same and is not written again.
 */
export function buildPolicyReport(namespace: string, results: readonly UnstampedResult[], previous: unknown, now: Date): PolicyReport {
  const stampOf = previousTimestamps(previous);
  const seconds = Math.floor(now.getTime() / 1000);
  const stamped = [...results].sort(compareResults).map((result): PolicyReportResult => {
    const kept = stampOf.get(resultIdentity(result));
    return { ...result, timestamp: kept ?? { seconds, nanos: 0 } };
  });
  return {
    apiVersion: `${POLICY_REPORTS.group}/${POLICY_REPORTS.version}`,
    kind: POLICY_REPORTS.kind,
    metadata: { name: REPORT_NAME, namespace, labels: { [MANAGED_BY_LABEL]: REPORT_NAME } },
    summary: summarize(stamped),
    results: stamped,
  };
}

/** True when `existing` (as the API server returned it) already says what `desired` says. */
export function sameReportContent(existing: unknown, desired: PolicyReport): boolean {
  if (!isPlainObject(existing)) return false;
  const labels = isPlainObject(existing.metadata) && isPlainObject(existing.metadata.labels) ? existing.metadata.labels : {};
  return (
    labels[MANAGED_BY_LABEL] === REPORT_NAME &&
    canonicalJson(existing.summary) === canonicalJson(desired.summary) &&
    canonicalJson(existing.results) === canonicalJson(desired.results)
  );
}

export function summarize(results: readonly Pick<PolicyReportResult, 'result'>[]): Summary {
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const { result } of results) summary[result] += 1;
  return summary;
}

/** The same object, resource, rule and verdict: the timestamp of such a result carries over. */
function resultIdentity(result: Pick<PolicyReportResult, 'resources' | 'rule' | 'result' | 'message'>): string {
  return JSON.stringify([result.resources[0]?.uid, result.rule, result.result, result.message ?? '']);
}

function previousTimestamps(previous: unknown): Map<string, PolicyReportResult['timestamp']> {
  const stamps = new Map<string, PolicyReportResult['timestamp']>();
  const results = isPlainObject(previous) && Array.isArray(previous.results) ? (previous.results as unknown[]) : [];
  for (const result of results) {
    if (!isPlainObject(result) || !Array.isArray(result.resources) || !isPlainObject(result.timestamp)) continue;
    const { seconds, nanos } = result.timestamp;
    if (typeof seconds !== 'number' || typeof nanos !== 'number') continue;
    stamps.set(resultIdentity(result as unknown as PolicyReportResult), { seconds, nanos });
  }
  return stamps;
}

/** Name, then uid (two objects of one name over time), then rule: the same order on every run. */
function compareResults(a: UnstampedResult, b: UnstampedResult): number {
  const [x] = a.resources;
  const [y] = b.resources;
  return compareText(x.name, y.name) || compareText(x.uid, y.uid) || compareText(a.rule, b.rule);
}

/**
 * JSON with the keys of every object sorted: the API server returns a custom resource with its
 * keys in alphabetical order, whatever order they were sent in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    isPlainObject(item) ? Object.fromEntries(Object.keys(item).sort().map((key) => [key, item[key]])) : item,
  );
}
