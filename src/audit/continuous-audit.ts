import { objectMetadata, type Fleet, type NamespaceInfo, type Policy } from '../engine/index.js';
import { errorFieldsWithoutInput, type Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import { judgeStoredObject, policyNeedsNamespaceLabels, STORED_OBJECT_CONTEXT } from './audit.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { POLICY_REPORTS, toClusterError, type ClusterConnection } from './cluster.js';
import { ViolationEvents, type JudgedObject } from './events.js';
import { FailureLog } from './failure-log.js';
import { FleetWatch, watchReports, type WatchReports } from './fleet-watch.js';
import type { ChangeType } from './informer.js';
import { DEFAULT_LEASE_TIMING, LeaderElector, type LeaseTiming } from './leader-election.js';
import { NamespaceLabels } from './namespace-labels.js';
import { objectResults, type UnstampedResult } from './policy-report.js';
import { CRD_MISSING, PolicyReportWriter } from './policy-report-writer.js';
import { connectWithBackoff } from './reconnect.js';
import type { AuditTrigger } from '../telemetry/vocabulary.js';

export interface AuditTiming {
  readonly lease: LeaseTiming;
  /** For every retry: the watches, the connection, failed writes. */
  readonly backoff: BackoffOptions;
  /** How long changes are gathered before reports are written: a relist of many objects makes one write per namespace. */
  readonly reportDelayMs: number;
  /** While the PolicyReport CRD is missing, how often it is looked for again. */
  readonly crdRecheckMs: number;
}

export const DEFAULT_AUDIT_TIMING: AuditTiming = { lease: DEFAULT_LEASE_TIMING, backoff: DEFAULT_BACKOFF, reportDelayMs: 1000, crdRecheckMs: 60_000 };

export const LEASE_NAME = 'mcpserver-webhook-audit';

export interface ContinuousAuditOptions {
  /** Finds the credentials; a ClusterError is logged and retried with backoff. */
  readonly connect: () => ClusterConnection;
  /** The policy in force now: a reload swaps it. */
  readonly policy: () => Policy;
  /** Who this replica is, in the Lease and in the events it writes. */
  readonly identity: string;
  /** Where the Lease lives. */
  readonly leaseNamespace: string;
  /** Also watch the metadata of Secrets, for the rule referenced-secret. */
  readonly watchSecrets?: boolean;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly timing?: AuditTiming;
}

/** One MCPServer as last judged. */
interface Evaluation extends JudgedObject {
  readonly results: readonly UnstampedResult[];
  /** The results as text: when it changes, so does the namespace's report. */
  readonly resultsKey: string;
}

/**
 * Judges the MCPServers already in the cluster, and goes on judging them: a watch brings every
 * change, and a policy reload or a change of namespace labels has every object judged again.
 * Every replica watches and judges (cheap, and it keeps the namespace labels for admission and
 * the violation metrics current); only the replica that holds the Lease writes a PolicyReport per
 * namespace and an Event per violation. Best effort: whatever fails is logged once and retried
 * with backoff, and admission never waits for any of it.
 */
export class ContinuousAudit {
  private readonly timing: AuditTiming;
  private readonly stopping = new AbortController();
  private readonly failures: FailureLog;
  private readonly watchReports: WatchReports;
  private readonly reportBackoff: Backoff;
  private running: Promise<void> | undefined;

  private cluster: { connection: ClusterConnection; fleet: FleetWatch; elector: LeaderElector; writer: PolicyReportWriter; events: ViolationEvents } | undefined;
  private namespaceLabels: NamespaceLabels | undefined;

  /** By uid: each MCPServer as last judged (the fleet watch keeps them as last seen). */
  private readonly evaluations = new Map<string, Evaluation>();
  /** Namespaces whose report may need a write, while this replica leads. */
  private readonly dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private crdMissing = false;
  /** The rules that have a violation series, per namespace, to remove those that went away. */
  private readonly violationSeries = new Map<string, Set<string>>();
  /** Whether a first list has arrived, to look once for reports left behind. */
  private listedOnce = false;

  constructor(private readonly options: ContinuousAuditOptions) {
    this.timing = options.timing ?? DEFAULT_AUDIT_TIMING;
    this.failures = new FailureLog(options.logger);
    this.watchReports = watchReports(options.metrics, this.failures);
    this.reportBackoff = new Backoff(this.timing.backoff);
  }

  /** Returns at once: connecting, listing and electing go on in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /** The namespace as the policy should see it at admission: with its labels, once the watch knows them. */
  namespaceInfo(name: string): NamespaceInfo {
    return this.namespaceLabels?.info(name) ?? { name };
  }

  /** The MCPServers of the cluster, for the rules across objects; undefined until the watch has synced. */
  fleet(): Fleet | undefined {
    return this.cluster?.fleet.fleet();
  }

  /** True once the first list arrived: before that, an empty picture is not the truth. */
  private get synced(): boolean {
    return this.cluster?.fleet.synced ?? false;
  }

  /** The policy changed: every object is judged by the new one. */
  policyReloaded(): void {
    if (!this.cluster) return;
    this.guard(() => {
      this.watchNamespaceLabelsIfNeeded();
      this.judgeAll('policy-reload');
    });
  }

  /** Stops watching and writing, and releases the Lease when this replica holds it. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.flushTimer);
    await this.running;
    const cluster = this.cluster;
    if (!cluster) return;
    await Promise.all([cluster.fleet.stop(), this.namespaceLabels?.stop()]);
    // Writes in flight finish before the Lease goes, so that no write follows the hand-over.
    await Promise.allSettled([this.flushing, cluster.events.idle()]);
    await cluster.elector.stop();
    this.options.metrics.auditLeader.set(0);
  }

  private async run(): Promise<void> {
    const connection = await connectWithBackoff(this.options.connect, this.failures, this.timing.backoff, this.stopping.signal);
    if (!connection) return;
    const { identity, leaseNamespace, metrics } = this.options;
    this.cluster = {
      connection,
      fleet: new FleetWatch({ connection, backoff: this.timing.backoff, secrets: this.options.watchSecrets ?? false, reports: this.watchReports }),
      writer: new PolicyReportWriter(connection),
      events: new ViolationEvents({
        connection,
        identity,
        mayWrite: () => this.mayWrite(),
        failures: this.failures,
        onWriteError: (error) => metrics.auditWriteErrors.inc({ resource: 'events', error }),
        backoff: this.timing.backoff,
      }),
      elector: new LeaderElector({
        connection,
        namespace: leaseNamespace,
        name: LEASE_NAME,
        identity,
        timing: this.timing.lease,
        failures: this.failures,
        onWriteError: (error) => metrics.auditWriteErrors.inc({ resource: 'leases', error }),
        onStartedLeading: () => this.guard(() => this.startedLeading()),
        onStoppedLeading: () => this.guard(() => this.stoppedLeading()),
      }),
    };
    this.watchNamespaceLabelsIfNeeded();
    this.cluster.fleet.start({
      synced: (_objects, gone) => this.guard(() => this.listed(gone)),
      changed: (type, item, previous) => this.guard(() => this.changed(type, item, previous)),
    });
    this.cluster.elector.start();
    this.options.logger.info(
      { event: 'audit-started', server: connection.server, identity, lease: `${leaseNamespace}/${LEASE_NAME}` },
      `continuous audit started against ${connection.server}; the replica holding the Lease ${leaseNamespace}/${LEASE_NAME} writes PolicyReports and Events`,
    );
  }

  /** Writes happen only while this replica holds the Lease and is not stopping. */
  private mayWrite(): boolean {
    return !this.stopping.signal.aborted && (this.cluster?.elector.isLeader() ?? false);
  }

  /** Namespace labels are watched only while the policy has a label selector. */
  private watchNamespaceLabelsIfNeeded(): void {
    const needed = policyNeedsNamespaceLabels(this.options.policy());
    if (needed && !this.namespaceLabels && this.cluster) {
      const labels = new NamespaceLabels(this.cluster.connection, this.timing.backoff);
      this.namespaceLabels = labels;
      labels.start({
        ...this.watchReports('namespaces'),
        synced: () => this.guard(() => this.judgeAll('namespace-labels')),
        changed: (namespace) => this.guard(() => this.judgeNamespace(namespace)),
      });
    } else if (!needed && this.namespaceLabels) {
      void this.namespaceLabels.stop();
      this.namespaceLabels = undefined;
    }
  }

  /** After each (re)list; `gone`: the objects deleted while the watch was down. */
  private listed(gone: readonly unknown[]): void {
    const firstList = !this.listedOnce;
    this.listedOnce = true;
    this.judgeAll('list', gone.map((object) => this.forget(identityOf(object)?.uid)));
    if (firstList && this.mayWrite()) void this.findReportsLeftBehind();
  }

  /**
   * One object changed: its whole namespace is judged again, since the rules across objects
   * (a family, a tool prefix) may see the others differently now.
   */
  private changed(type: ChangeType, item: unknown, previous: unknown): void {
    const identity = identityOf(item);
    if (!identity) return;
    const forgotten = type === 'DELETED' ? this.forget(identity.uid) : undefined;
    const namespaces = new Set([identity.namespace, identityOf(previous)?.namespace].filter((namespace): namespace is string => namespace !== undefined));
    this.settle([forgotten, ...[...namespaces].flatMap((namespace) => this.judgeObjectsOf(namespace))]);
  }

  private forget(uid: string | undefined): string | undefined {
    if (uid === undefined) return undefined;
    this.cluster?.events.forget(uid);
    const evaluation = this.evaluations.get(uid);
    this.evaluations.delete(uid);
    return evaluation?.namespace;
  }

  /** `alsoChanged`: namespaces that changed otherwise (objects gone), settled with the rest. */
  private judgeAll(trigger: AuditTrigger, alsoChanged: readonly (string | undefined)[] = []): void {
    if (!this.synced || !this.cluster) return;
    this.options.metrics.auditCycles.inc({ trigger });
    this.settle([...alsoChanged, ...[...this.cluster.fleet.all.keys()].map((uid) => this.judge(uid))]);
  }

  private judgeNamespace(namespace: string): void {
    this.settle(this.judgeObjectsOf(namespace));
  }

  /** Judges every object of a namespace; returns the namespace for each whose report changed. */
  private judgeObjectsOf(namespace: string): (string | undefined)[] {
    const all = this.cluster?.fleet.all ?? new Map<string, unknown>();
    return [...all].filter(([, object]) => identityOf(object)?.namespace === namespace).map(([uid]) => this.judge(uid));
  }

  /** Judges one object; returns its namespace when what its report says has changed. */
  private judge(uid: string): string | undefined {
    const object = this.cluster?.fleet.all.get(uid);
    const identity = identityOf(object);
    if (!identity) return undefined;
    const { metrics, logger } = this.options;
    const policy = this.options.policy();
    const namespace = this.namespaceInfo(identity.namespace);
    const failedRules = new Set<string>();
    const verdict = judgeStoredObject(object, policy, namespace, this.fleet(), (rule, error) => {
      failedRules.add(rule);
      metrics.ruleErrors.inc({ rule });
      logger.error(
        { event: 'rule-error', rule, namespace: identity.namespace, name: identity.name, error: errorFieldsWithoutInput(error) },
        `rule ${rule} failed on ${identity.namespace}/${identity.name} in the continuous audit`,
      );
    });
    const results = objectResults({ ...identity, verdict, actions: policy.actions(STORED_OBJECT_CONTEXT, namespace), failedRules });
    const evaluation: Evaluation = { ...identity, denials: verdict.denials, results, resultsKey: JSON.stringify(results) };
    const previous = this.evaluations.get(uid);
    this.evaluations.set(uid, evaluation);
    if (this.mayWrite()) this.cluster?.events.observe(evaluation);
    return previous?.resultsKey === evaluation.resultsKey ? undefined : identity.namespace;
  }

  /** After judging: the metrics of the namespaces that changed, and their reports when leading. */
  private settle(changed: readonly (string | undefined)[]): void {
    const namespaces = new Set(changed.filter((namespace): namespace is string => namespace !== undefined));
    for (const namespace of namespaces) this.countViolations(namespace);
    if (!this.mayWrite()) return;
    for (const namespace of namespaces) this.dirty.add(namespace);
    this.scheduleFlush(this.timing.reportDelayMs);
  }

  private countViolations(namespace: string): void {
    const counts = new Map<string, number>();
    for (const evaluation of this.evaluations.values()) {
      if (evaluation.namespace !== namespace) continue;
      for (const rule of new Set(evaluation.denials.map((denial) => denial.rule))) counts.set(rule, (counts.get(rule) ?? 0) + 1);
    }
    const gauge = this.options.metrics.auditViolations;
    for (const rule of this.violationSeries.get(namespace) ?? []) if (!counts.has(rule)) gauge.remove({ namespace, rule });
    for (const [rule, count] of counts) gauge.set({ namespace, rule }, count);
    if (counts.size > 0) this.violationSeries.set(namespace, new Set(counts.keys()));
    else this.violationSeries.delete(namespace);
  }

  private startedLeading(): void {
    const { metrics, logger, identity } = this.options;
    metrics.auditLeader.set(1);
    logger.info({ event: 'audit-leader', leader: true, identity }, 'this replica holds the audit Lease: it writes PolicyReports and Events');
    if (!this.cluster || !this.synced) return;
    this.cluster.events.reset();
    for (const evaluation of this.evaluations.values()) {
      this.dirty.add(evaluation.namespace);
      this.cluster.events.observe(evaluation);
    }
    void this.findReportsLeftBehind();
  }

  private stoppedLeading(): void {
    const { metrics, logger, identity } = this.options;
    metrics.auditLeader.set(0);
    logger.info({ event: 'audit-leader', leader: false, identity }, 'this replica no longer holds the audit Lease: it stops writing');
    this.cluster?.events.reset();
    this.dirty.clear();
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }

  /** Reports in namespaces whose MCPServers all went while no replica was leading are deleted. */
  private async findReportsLeftBehind(): Promise<void> {
    if (!this.cluster) return;
    let delayMs = 0;
    try {
      const namespaces = await this.cluster.writer.namespacesWithReports();
      if (namespaces === CRD_MISSING) {
        this.noteCrdMissing();
        delayMs = this.timing.crdRecheckMs;
      } else {
        for (const namespace of namespaces) this.dirty.add(namespace);
      }
    } catch (error) {
      this.failures.failed('policy reports', toClusterError(error, { verb: 'list', resource: POLICY_REPORTS }, this.cluster.connection).message);
    }
    this.scheduleFlush(delayMs);
  }

  private scheduleFlush(delayMs: number): void {
    if (this.flushTimer || !this.synced || this.dirty.size === 0 || !this.mayWrite()) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      // One flush at a time: a later one waits for the one in progress.
      this.flushing = this.flushing.then(() => this.flush());
    }, delayMs);
  }

  /** Writes the reports of the namespaces that changed, one at a time, while this replica leads. */
  private async flush(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    let retryInMs: number | undefined;
    for (const namespace of [...this.dirty].sort()) {
      if (!this.mayWrite()) return;
      this.dirty.delete(namespace);
      const results = [...this.evaluations.values()].filter((evaluation) => evaluation.namespace === namespace).flatMap((evaluation) => evaluation.results);
      try {
        const outcome = await cluster.writer.sync(namespace, results, () => this.mayWrite());
        if (outcome === 'not-leader') return;
        if (outcome === 'crd-missing') {
          this.dirty.add(namespace);
          this.noteCrdMissing();
          retryInMs = this.timing.crdRecheckMs;
          break;
        }
        this.noteCrdPresent();
        this.failures.succeeded('policy reports');
        this.reportBackoff.reset();
        if (outcome !== 'unchanged') this.options.logger.debug({ event: 'policy-report', namespace, outcome }, `PolicyReport ${namespace}/mcpserver-webhook ${outcome}`);
      } catch (error) {
        const problem = toClusterError(error, { verb: 'update', resource: POLICY_REPORTS, namespace }, cluster.connection);
        this.dirty.add(namespace);
        this.options.metrics.auditWriteErrors.inc({ resource: 'policyreports', error: problem.kind });
        // A conflict is someone else's write in between: read again and retry, nothing to report.
        if (problem.kind !== 'conflict') this.failures.failed('policy reports', problem.message);
        retryInMs = Math.max(retryInMs ?? 0, this.reportBackoff.next());
      }
    }
    this.scheduleFlush(retryInMs ?? this.timing.reportDelayMs);
  }

  private noteCrdMissing(): void {
    if (this.crdMissing) return;
    this.crdMissing = true;
    this.options.logger.warn(
      { event: 'policyreport-crd-missing' },
      `the PolicyReport CRD (policyreports.wgpolicyk8s.io, version v1alpha2) is not installed: the continuous audit writes Events but no PolicyReports until it is (looked for again every ${this.timing.crdRecheckMs / 1000} s)`,
    );
  }

  private noteCrdPresent(): void {
    if (!this.crdMissing) return;
    this.crdMissing = false;
    this.options.logger.info({ event: 'policyreport-crd-found' }, 'the PolicyReport CRD is installed now: the continuous audit writes PolicyReports');
  }

  /** A fault of ours in a callback is logged; the audit goes on, and admission is never touched. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.options.logger.error({ event: 'audit-internal-error', error: errorFieldsWithoutInput(error) }, 'unexpected error in the continuous audit; it goes on');
    }
  }
}

/** What identifies a stored MCPServer; undefined for anything that lacks it. */
function identityOf(item: unknown): { uid: string; name: string; namespace: string; resourceVersion: string } | undefined {
  const { uid, name, namespace, resourceVersion = '' } = objectMetadata(item);
  if (uid === undefined || name === undefined || namespace === undefined) return undefined;
  return { uid, name, namespace, resourceVersion };
}
