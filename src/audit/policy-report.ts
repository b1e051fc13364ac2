import { createHash } from 'node:crypto';
import { compareText, INTERNAL_ERROR_RULE, MCPSERVER_RESOURCE, type ActionTable, type Finding, type Verdict } from '../engine/index.js';
import { fitText, standaloneMessage } from '../report/finding-text.js';
import { POLICY_REPORTS } from '../cluster/connection.js';

/**
 * The `wgpolicyk8s.io/v1alpha2` PolicyReport the continuous audit keeps for each MCPServer: one
 * result per rule the policy applies that concerns the object (Rule.concerns: as Kyverno reports
 * the rules whose match selects a resource), `pass` included, so that report UIs (Policy Reporter,
 * Kyverno's) count what complies as well as what does not. One report per resource, as Kyverno
 * writes them since 1.12 and as OpenReports (openreports.io) keeps them: its `scope` names the
 * MCPServer, an ownerReference has the garbage collector remove it with the MCPServer, and its size
 * does not grow with the namespace (a report per namespace passes the API server's 3 MiB request
 * limit, and etcd's 1.5 MiB, from a few hundred MCPServers). Pure: the writer
 * (policy-report-writer.ts) talks to the API server.
 */

/** Every result's `policy` and `source`, the value of the managed-by label, and the prefix of the reports' names. */
export const REPORT_SOURCE = 'mcpserver-webhook';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** The one report per namespace of earlier versions: removed on upgrade. */
export const NAMESPACE_REPORT_NAME = REPORT_SOURCE;
/**
 * A hash of what a report says (its results without their timestamps), so that a new leader, or
 * this one after a restart, can tell from the reports' metadata alone which need no write.
 */
export const RESULTS_HASH_ANNOTATION = `${REPORT_SOURCE}/results-hash`;

/** The report of the MCPServer with this uid: one name per object, never reused for another. */
export function reportName(uid: string): string {
  return `${REPORT_SOURCE}-${uid}`;
}

/** The uid of the MCPServer a report of ours is about, from its name; undefined for any other name. */
export function reportedUid(name: string): string | undefined {
  return name.startsWith(`${REPORT_SOURCE}-`) ? name.slice(REPORT_SOURCE.length + 1) : undefined;
}

export const RESULT_VALUES = ['pass', 'fail', 'warn', 'error', 'skip'] as const;
export type ResultValue = (typeof RESULT_VALUES)[number];

/** What the audit holds for one MCPServer between judging it and writing its report. */
export interface ObjectOutcome {
  /** The rules the policy applies to it and that concern it, in rule ID order (shared between objects). */
  readonly rules: readonly string[];
  /** The results other than `pass`, by rule: most objects have few or none. */
  readonly findings: ReadonlyMap<string, { readonly result: Exclude<ResultValue, 'pass'>; readonly message: string }>;
  /** Identifies what the report says; equal hashes, equal reports but for timestamps. */
  readonly hash: string;
}

export interface PolicyReportResult {
  readonly policy: string;
  readonly rule: string;
  readonly result: ResultValue;
  /** Absent on a pass: there is nothing to say. */
  readonly message?: string;
  readonly source: string;
  /** False for a `skip`: an audit-only finding does not count against compliance. */
  readonly scored: boolean;
  /** metav1.Timestamp: since when the report has said what it says. */
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
}

export type Summary = Readonly<Record<ResultValue, number>>;

export interface ReportedObject {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
}

export interface PolicyReport {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly ownerReferences: readonly [{ readonly apiVersion: string; readonly kind: string; readonly name: string; readonly uid: string }];
    readonly resourceVersion?: string;
  };
  readonly scope: { readonly apiVersion: string; readonly kind: string; readonly name: string; readonly namespace: string; readonly uid: string };
  readonly summary: Summary;
  readonly results: readonly PolicyReportResult[];
}

/** One MCPServer as the audit judged it. */
export interface AuditedObject {
  readonly verdict: Verdict;
  /** What the policy makes of each rule for this object's namespace. */
  readonly actions: ActionTable;
  /** The rules that concern the object (engine's rulesConcerning). */
  readonly concerned: readonly string[];
  /** Rules that threw on this object (the engine denied it for them). */
  readonly failedRules: ReadonlySet<string>;
}

/**
 * A result's message at most: a rule's findings on many fields (a header per line) could
 * otherwise make one report larger than the API server accepts. The webhook's own answer and
 * `mcpserver-webhook audit` give them all.
 */
export const MAX_RESULT_MESSAGE_LENGTH = 1024;

/** A deny finding fails, a warning warns, an audit-only finding is a `skip` with its message. */
const RESULT_OF_ACTION = { deny: 'fail', warn: 'warn', audit: 'skip' } as const satisfies Record<Finding['action'], ResultValue>;

/** Lists of reported rules, one instance per distinct list: thousands of objects share a handful. */
const ruleLists = new Map<string, readonly string[]>();

/** The rules that concern the object, and any other that found something in it or failed on it: nothing found is left out. */
function reportedRules(actions: ActionTable, concerned: readonly string[], found: Iterable<string>): readonly string[] {
  const rules = [...new Set([...concerned, ...found])].filter((rule) => (actions.get(rule) ?? 'off') !== 'off').sort(compareText);
  const key = rules.join(',');
  let shared = ruleLists.get(key);
  if (!shared) ruleLists.set(key, (shared = rules));
  return shared;
}

/** What the object's report says: a result per rule that concerns it and whose action is not `off`, in rule ID order (as in `rules`). */
export function objectOutcome(object: AuditedObject): ObjectOutcome {
  const findings = [...object.verdict.denials, ...object.verdict.warnings, ...object.verdict.audits];
  const unchecked = findings.filter((finding) => finding.rule === INTERNAL_ERROR_RULE);
  if (unchecked.length > 0 && object.failedRules.size === 0) {
    // The engine denied the object without running the rules: none of them passed, one error says why.
    const message = fitText(unchecked.map(standaloneMessage).join('; '), '', MAX_RESULT_MESSAGE_LENGTH);
    return outcome([INTERNAL_ERROR_RULE], new Map([[INTERNAL_ERROR_RULE, { result: 'error', message }]]));
  }
  const rules = reportedRules(object.actions, object.concerned, [...findings.map((finding) => finding.rule), ...object.failedRules]);
  const byRule = new Map<string, { result: Exclude<ResultValue, 'pass'>; message: string }>();
  for (const rule of rules) {
    if (object.failedRules.has(rule)) {
      byRule.set(rule, { result: 'error', message: `the rule ${rule} failed to run on this object, so the webhook denies it; the error is in the webhook's log` });
      continue;
    }
    const own = findings.filter((finding) => finding.rule === rule);
    const first = own[0];
    if (first) byRule.set(rule, { result: RESULT_OF_ACTION[first.action], message: fitText(own.map(standaloneMessage).join('; '), '', MAX_RESULT_MESSAGE_LENGTH) });
  }
  return outcome(rules, byRule);
}

/** Most objects pass every rule: they share one empty map. */
const NO_FINDINGS: ObjectOutcome['findings'] = new Map();

function outcome(rules: readonly string[], found: ObjectOutcome['findings']): ObjectOutcome {
  const findings = found.size === 0 ? NO_FINDINGS : found;
  const hash = createHash('sha256')
    .update(JSON.stringify([rules, [...findings]]))
    .digest('hex')
    .slice(0, 32);
  return { rules, findings, hash };
}

/** The object's report; `sinceSeconds`: when what it says last changed. */
export function buildPolicyReport(object: ReportedObject, outcome: ObjectOutcome, sinceSeconds: number): PolicyReport {
  const { group, version, kind } = MCPSERVER_RESOURCE;
  const apiVersion = `${group}/${version}`;
  const timestamp = { seconds: sinceSeconds, nanos: 0 };
  const results = outcome.rules.map((rule): PolicyReportResult => {
    const base = { policy: REPORT_SOURCE, rule, source: REPORT_SOURCE, timestamp };
    const finding = outcome.findings.get(rule);
    return finding ? { ...base, result: finding.result, message: finding.message, scored: finding.result !== 'skip' } : { ...base, result: 'pass', scored: true };
  });
  return {
    apiVersion: `${POLICY_REPORTS.group}/${POLICY_REPORTS.version}`,
    kind: POLICY_REPORTS.kind,
    metadata: {
      name: reportName(object.uid),
      namespace: object.namespace,
      labels: { [MANAGED_BY_LABEL]: REPORT_SOURCE },
      annotations: { [RESULTS_HASH_ANNOTATION]: outcome.hash },
      // No blockOwnerDeletion: that would need the right to change MCPServers' finalizers.
      ownerReferences: [{ apiVersion, kind, name: object.name, uid: object.uid }],
    },
    scope: { apiVersion, kind, name: object.name, namespace: object.namespace, uid: object.uid },
    summary: summarize(results),
    results,
  };
}

export function summarize(results: readonly Pick<PolicyReportResult, 'result'>[]): Summary {
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const { result } of results) summary[result] += 1;
  return summary;
}
