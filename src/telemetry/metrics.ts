import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { ACTIONS, INTERNAL_ERROR_RULE, RULE_IDS } from '../engine/index.js';
import { AUDIT_TRIGGERS, CLUSTER_ERROR_KINDS, DRIFT_KINDS, OPERATIONS, RELOAD_RESULTS, RESTART_REASONS, WATCHED_RESOURCES, WRITTEN_RESOURCES } from './vocabulary.js';

/** What became of a review: judged and allowed or denied, or allowed without a check. */
export const DECISIONS = ['allowed', 'denied', 'skipped'] as const;
export type Decision = (typeof DECISIONS)[number];
/** A verdict is always a judgement. */
export const VERDICT_DECISIONS = ['allowed', 'denied'] as const;

const PREFIX = 'mcpserver_webhook_';

/** A registry's metrics as data (`Registry.getMetricsAsJSON`), which can cross to another thread. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * The webhook's Prometheus metrics, in a registry of its own so that tests and a second server
 * in one process never share counters. Label values come from closed sets only (operations,
 * decisions, rule IDs, HTTP codes), never from the request, so no input can add a series.
 */
export class WebhookMetrics {
  readonly registry = new Registry();

  readonly requests = this.counter(
    'admission_requests_total',
    'Admission reviews answered, by operation and decision (skipped: allowed without a check, not ours to judge).',
    ['operation', 'decision'],
  );

  readonly findings = this.counter(
    'findings_total',
    'Findings reported in admission responses, by rule ID and action (deny, warn, audit).',
    ['rule', 'action'],
  );

  readonly ratchetedFindings = this.counter(
    'ratcheted_findings_total',
    'Denials let through on UPDATE, as a warning, because the old object already had them (ratcheting), by rule ID.',
    ['rule'],
  );

  readonly schemaDrift = this.counter(
    'schema_drift_total',
    "Fields (unknown-field) or values (schema-violation) in objects at admission that passed the API server's own checks but that the webhook's schema refuses: the cluster's MCPServer CRD is newer than the webhook. Upgrade the webhook.",
    ['kind'],
  );

  readonly ruleErrors = this.counter(
    'rule_errors_total',
    'Rules that threw while checking an object; each such object was denied (fail closed).',
    ['rule'],
  );

  readonly rejectedRequests = this.counter(
    'rejected_requests_total',
    'Requests to /validate and /v1/verdict refused before judging (malformed, too large, wrong content type), by HTTP status code.',
    ['code'],
  );

  readonly verdictRequests = this.counter('verdict_requests_total', 'Verdicts answered on POST /v1/verdict, by decision.', ['decision']);

  readonly duration = new Histogram({
    name: `${PREFIX}admission_duration_seconds`,
    help: 'Time from the arrival of an admission review to its answer, body parsing included.',
    // The API server gives a webhook 10 s by default; most answers take a millisecond or two.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly inFlight = this.gauge('in_flight_requests', 'Requests to /validate and /v1/verdict being served right now.');

  readonly certificateExpiry = this.gauge(
    'certificate_expiry_timestamp_seconds',
    'When the serving certificate in use expires, in seconds since the Unix epoch.',
  );

  readonly certificateReloads = this.counter(
    'certificate_reloads_total',
    'Attempts to take a changed serving certificate into use, by result; on failure the previous one stays.',
    ['result'],
  );

  readonly policyReloads = this.counter(
    'policy_reloads_total',
    'Attempts to take a changed policy file into use, by result; on failure the previous policy stays.',
    ['result'],
  );

  readonly auditViolations = this.gauge(
    'audit_violations',
    'MCPServers in the cluster that the policy denies (the webhook would refuse them if they were written now), by namespace and rule, as the continuous audit sees them.',
    ['namespace', 'rule'],
  );

  readonly auditCycles = this.counter(
    'audit_cycles_total',
    'Times the continuous audit judged every MCPServer again, by trigger: list (the first list and each relist), policy-reload, namespace-labels.',
    ['trigger'],
  );

  readonly auditWatchRestarts = this.counter(
    'audit_watch_restarts_total',
    'Watches of the continuous audit started again, by resource and reason: closed (by the API server), timeout (30 s silent), expired (410: relisted), error.',
    ['resource', 'reason'],
  );

  readonly auditLeader = this.gauge('audit_leader', '1 while this replica holds the audit Lease and writes PolicyReports and Events, else 0.');

  readonly auditWriteErrors = this.counter(
    'audit_write_errors_total',
    'Failed writes of the continuous audit, by resource (policyreports, events, leases) and error kind (forbidden, unreachable, conflict, ...).',
    ['resource', 'error'],
  );

  /** Other registries of this process (the audit's worker thread), added to the exposition. */
  private readonly others: (() => Promise<MetricsSnapshot>)[] = [];

  /**
   * `processMetrics`: also the process's and this thread's own metrics (CPU, memory, event loop
   * lag), as prom-client's default metrics. A worker thread leaves them to the main thread, whose
   * process metrics already count it.
   */
  constructor({ processMetrics = true }: { readonly processMetrics?: boolean } = {}) {
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    // Every series exists from the start at zero, so rate() and alerts work before the first event.
    for (const operation of OPERATIONS) for (const decision of DECISIONS) this.requests.inc({ operation, decision }, 0);
    for (const rule of [...RULE_IDS, INTERNAL_ERROR_RULE]) {
      for (const action of ACTIONS) if (action !== 'off') this.findings.inc({ rule, action }, 0);
    }
    for (const rule of RULE_IDS) this.ratchetedFindings.inc({ rule }, 0);
    for (const kind of DRIFT_KINDS) this.schemaDrift.inc({ kind }, 0);
    for (const result of RELOAD_RESULTS) {
      this.certificateReloads.inc({ result }, 0);
      this.policyReloads.inc({ result }, 0);
    }
    for (const decision of VERDICT_DECISIONS) this.verdictRequests.inc({ decision }, 0);
    for (const trigger of AUDIT_TRIGGERS) this.auditCycles.inc({ trigger }, 0);
    for (const resource of WATCHED_RESOURCES) for (const reason of RESTART_REASONS) this.auditWatchRestarts.inc({ resource, reason }, 0);
    for (const resource of WRITTEN_RESOURCES) for (const error of CLUSTER_ERROR_KINDS) this.auditWriteErrors.inc({ resource, error }, 0);
    this.auditLeader.set(0);
  }

  /**
   * Adds the metrics of another registry of this process to the exposition. Series of the same
   * name and labels are summed, as prom-client sums the workers of a cluster: each counts only its
   * own events (the audit's writes in its worker, the reviews here).
   */
  include(source: () => Promise<MetricsSnapshot>): void {
    this.others.push(source);
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    if (this.others.length === 0) return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    const [own, ...others] = await Promise.all([this.registry.getMetricsAsJSON(), ...this.others.map((source) => source())]);
    // prom-client drops process_start_time_seconds when it aggregates processes; these are threads of one.
    const kept = own.map((metric) => (metric.aggregator === 'omit' ? { ...metric, aggregator: 'first' as const } : metric));
    return { contentType: this.registry.contentType, body: await AggregatorRegistry.aggregate([kept, ...others]).metrics() };
  }

  private counter<Label extends string>(name: string, help: string, labelNames: readonly Label[]): Counter<Label> {
    return new Counter({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  private gauge<Label extends string>(name: string, help: string, labelNames: readonly Label[] = []): Gauge<Label> {
    return new Gauge({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}
