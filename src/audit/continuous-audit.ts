import { affectedPeers, objectMetadata, rulesConcerning, type Finding, type Fleet, type NamespaceInfo, type Policy } from '../engine/index.js';
import { errorFieldsWithoutInput, type Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import type { AuditTrigger } from '../telemetry/vocabulary.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../cluster/backoff.js';
import type { ClusterConnection } from '../cluster/connection.js';
import { FailureLog } from '../cluster/failure-log.js';
import { FleetCache, watchReports, type WatchReports } from '../cluster/fleet-cache.js';
import type { Replicate } from '../cluster/cache-change.js';
import type { ChangeType } from '../cluster/informer.js';
import { DEFAULT_LEASE_TIMING, LeaderElector, type LeaseTiming } from '../cluster/leader-election.js';
import { NamespaceLabels } from '../cluster/namespace-labels.js';
import { DEFAULT_WRITE_LIMIT, RateLimiter, type RateLimit } from '../cluster/rate-limiter.js';
import { connectWithBackoff } from '../cluster/reconnect.js';
import { judgeStoredObject, policyNeedsNamespaceLabels, STORED_OBJECT_CONTEXT } from './audit.js';
import { ViolationEvents, type JudgedObject } from './events.js';
import { objectOutcome, type ObjectOutcome } from './policy-report.js';
import { ReportQueue } from './report-queue.js';

export interface AuditTiming {
  readonly lease: LeaseTiming;
  /** For every retry: the watches, the connection, failed writes. */
  readonly backoff: BackoffOptions;
  /** How long changes are gathered before reports are written: a relist of many objects starts its writes at once. */
  readonly reportDelayMs: number;
  /** While the PolicyReport CRD is missing, how often it is looked for again. */
  readonly crdRecheckMs: number;
}

export const DEFAULT_AUDIT_TIMING: AuditTiming = { lease: DEFAULT_LEASE_TIMING, backoff: DEFAULT_BACKOFF, reportDelayMs: 1000, crdRecheckMs: 60_000 };

export const LEASE_NAME = 'mcpserver-webhook-audit';

/**
 * How long judging may hold the event loop before it lets the rest in: the writes and the
 * Lease's renewals, which a first pass over thousands of objects would otherwise hold up (and
 * admission, where the audit shares its thread, as in tests; `serve` runs it in a worker thread).
 */
const JUDGING_SLICE_MS = 2;

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
  /** The client-side limit on the audit's writes; DEFAULT_WRITE_LIMIT when absent. */
  readonly writeLimit?: RateLimit;
  /** Also tell every change to the cluster cache to a replica (admission's, in the main thread). */
  readonly replicate?: Replicate;
}

/** One MCPServer as last judged: what its event and its report say. */
interface Evaluation extends JudgedObject {
  readonly outcome: ObjectOutcome;
  /** When the outcome last changed, in seconds since the epoch: every result's timestamp. */
  readonly sinceSeconds: number;
}

const NO_DENIALS: readonly Finding[] = [];

/**
 * Judges the MCPServers already in the cluster, and goes on judging them: the fleet cache's watch
 * brings every change, and a policy reload or a change of namespace labels has every object
 * judged again. Every replica watches and judges (cheap, and it keeps the fleet view, the
 * namespace labels and the violation metrics current for admission); only the replica that holds
 * the Lease writes a PolicyReport per MCPServer and an Event per violation. `serve --audit` runs it
 * in a worker thread of its own (audit-thread.ts), so that admission never waits behind it. Judging
 * is done in slices of a few milliseconds; a change judges the object and only the others it can
 * affect (its family, its tool name space). Best effort: whatever fails is logged once and
 * retried with backoff.
 */
export class ContinuousAudit {
  private readonly timing: AuditTiming;
  private readonly stopping = new AbortController();
  private readonly failures: FailureLog;
  private readonly watchReports: WatchReports;
  private readonly limiter: RateLimiter;
  private running: Promise<void> | undefined;

  private cluster: { connection: ClusterConnection; cache: FleetCache; elector: LeaderElector; reports: ReportQueue; events: ViolationEvents } | undefined;
  private namespaceLabels: NamespaceLabels | undefined;

  /** By uid: each MCPServer as last judged (the fleet cache keeps them as last seen). */
  private readonly evaluations = new Map<string, Evaluation>();
  private readonly violations: ViolationCounts;
  /** The MCPServers waiting to be judged, by uid, judged a slice at a time. */
  private readonly toJudge = new Set<string>();
  private judging: NodeJS.Immediate | undefined;

  constructor(private readonly options: ContinuousAuditOptions) {
    this.timing = options.timing ?? DEFAULT_AUDIT_TIMING;
    this.failures = new FailureLog(options.logger);
    this.watchReports = watchReports(options.metrics, this.failures);
    this.limiter = new RateLimiter(options.writeLimit ?? DEFAULT_WRITE_LIMIT);
    this.violations = new ViolationCounts(options.metrics);
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
    return this.cluster?.cache.fleet();
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
    if (this.judging) clearImmediate(this.judging);
    await this.running;
    const cluster = this.cluster;
    if (!cluster) return;
    await Promise.all([cluster.cache.stop(), this.namespaceLabels?.stop()]);
    // Writes in flight finish before the Lease goes, so that no write follows the hand-over.
    await Promise.allSettled([cluster.reports.stop(), cluster.events.idle()]);
    await cluster.elector.stop();
    this.options.metrics.auditLeader.set(0);
  }

  private async run(): Promise<void> {
    const connection = await connectWithBackoff(this.options.connect, this.failures, this.timing.backoff, this.stopping.signal);
    if (!connection) return;
    const { identity, leaseNamespace, metrics, logger } = this.options;
    const mayWrite = (): boolean => this.mayWrite();
    this.cluster = {
      connection,
      cache: new FleetCache({
        connection,
        backoff: this.timing.backoff,
        secrets: this.options.watchSecrets ?? false,
        reports: this.watchReports,
        replicate: this.options.replicate,
      }),
      reports: new ReportQueue({
        connection,
        limiter: this.limiter,
        mayWrite,
        subject: (uid) => this.evaluations.get(uid),
        subjects: () => this.evaluations.keys(),
        exists: (uid) => this.cluster?.cache.get(uid) !== undefined,
        failures: this.failures,
        metrics,
        logger,
        backoff: this.timing.backoff,
        delayMs: this.timing.reportDelayMs,
        crdRecheckMs: this.timing.crdRecheckMs,
      }),
      events: new ViolationEvents({
        connection,
        identity,
        mayWrite,
        throttle: () => this.limiter.take(this.stopping.signal),
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
    this.cluster.cache.start({
      synced: (fleet, gone) => this.guard(() => this.listed(fleet, gone)),
      changed: (type, item, previous) => this.guard(() => this.changed(type, item, previous)),
    });
    this.cluster.elector.start();
    logger.info(
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
      const labels = new NamespaceLabels(this.cluster.connection, this.timing.backoff, this.options.replicate);
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
  private listed(fleet: Fleet, gone: readonly unknown[]): void {
    for (const object of gone) this.forget(objectMetadata(object).uid);
    this.options.logger.info({ event: 'audit-synced', mcpservers: fleet.size }, `continuous audit listed ${fleet.size} MCPServers; judging them`);
    this.judgeAll('list');
  }

  /**
   * One object changed: it is judged again, and so are the others whose verdict it can change,
   * those that shared a group with it before the change or share one after (a family, a tool
   * name space). No other object's verdict depends on it.
   */
  private changed(type: ChangeType, item: unknown, previous: unknown): void {
    const cache = this.cluster?.cache;
    const uid = objectMetadata(item).uid;
    if (!cache || uid === undefined) return;
    const affected = affectedPeers(cache.members, item);
    if (previous !== undefined) for (const peer of affectedPeers(cache.members, previous)) affected.add(peer);
    if (type === 'DELETED') this.forget(uid);
    else affected.add(uid);
    this.enqueue(affected);
  }

  private forget(uid: string | undefined): void {
    const evaluation = uid === undefined ? undefined : this.evaluations.get(uid);
    if (uid === undefined || !evaluation) return;
    this.evaluations.delete(uid);
    this.toJudge.delete(uid);
    this.violations.change(evaluation, undefined);
    this.cluster?.events.forget(uid);
    this.cluster?.reports.removed(uid, evaluation.namespace);
  }

  private judgeAll(trigger: AuditTrigger): void {
    const cache = this.cluster?.cache;
    if (!cache?.synced) return;
    this.options.metrics.auditCycles.inc({ trigger });
    this.enqueue(cache.members.ids());
  }

  private judgeNamespace(namespace: string): void {
    const uids = [...this.evaluations.values()].filter((evaluation) => evaluation.namespace === namespace).map((evaluation) => evaluation.uid);
    this.enqueue(uids);
  }

  private enqueue(uids: Iterable<string>): void {
    for (const uid of uids) this.toJudge.add(uid);
    this.judging ??= setImmediate(() => this.judgeSlice());
  }

  /** Judges for a slice of time, then lets the event loop serve what waits. */
  private judgeSlice(): void {
    this.judging = undefined;
    if (this.stopping.signal.aborted) return;
    const deadline = performance.now() + JUDGING_SLICE_MS;
    for (const uid of this.toJudge) {
      this.toJudge.delete(uid);
      this.guard(() => this.judge(uid));
      if (performance.now() >= deadline) break;
    }
    if (this.toJudge.size > 0) this.judging = setImmediate(() => this.judgeSlice());
  }

  /** Judges one object, and passes what changed on to the metrics, the events and its report. */
  private judge(uid: string): void {
    const cluster = this.cluster;
    const object = cluster?.cache.get(uid);
    const { name, namespace, resourceVersion = '' } = objectMetadata(object);
    if (!cluster || name === undefined || namespace === undefined) return;
    const { metrics, logger } = this.options;
    const policy = this.options.policy();
    const namespaceInfo = this.namespaceInfo(namespace);
    const failedRules = new Set<string>();
    const verdict = judgeStoredObject(object, policy, namespaceInfo, this.fleet(), (rule, error) => {
      failedRules.add(rule);
      metrics.ruleErrors.inc({ rule });
      logger.error(
        { event: 'rule-error', rule, namespace, name, error: errorFieldsWithoutInput(error) },
        `rule ${rule} failed on ${namespace}/${name} in the continuous audit`,
      );
    });
    const outcome = objectOutcome({ verdict, actions: policy.actions(STORED_OBJECT_CONTEXT, namespaceInfo), concerned: rulesConcerning(object), failedRules });
    const previous = this.evaluations.get(uid);
    const unchanged = previous?.outcome.hash === outcome.hash;
    const evaluation: Evaluation = {
      uid,
      name,
      namespace,
      resourceVersion,
      denials: verdict.denials.length > 0 ? verdict.denials : NO_DENIALS,
      outcome,
      sinceSeconds: unchanged ? previous.sinceSeconds : Math.floor(Date.now() / 1000),
    };
    this.evaluations.set(uid, evaluation);
    this.violations.change(previous, evaluation);
    if (!unchanged) cluster.reports.changed(uid);
    if (this.mayWrite()) cluster.events.observe(evaluation);
  }

  private startedLeading(): void {
    const { metrics, logger, identity } = this.options;
    metrics.auditLeader.set(1);
    logger.info({ event: 'audit-leader', leader: true, identity }, 'this replica holds the audit Lease: it writes PolicyReports and Events');
    if (!this.cluster) return;
    this.cluster.events.reset();
    for (const evaluation of this.evaluations.values()) this.cluster.events.observe(evaluation);
    this.cluster.reports.startedLeading();
  }

  private stoppedLeading(): void {
    const { metrics, logger, identity } = this.options;
    metrics.auditLeader.set(0);
    logger.info({ event: 'audit-leader', leader: false, identity }, 'this replica no longer holds the audit Lease: it stops writing');
    this.cluster?.events.reset();
    this.cluster?.reports.stoppedLeading();
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

/**
 * audit_violations{namespace, rule}: how many MCPServers each rule denies, kept up to date one
 * verdict at a time (never by counting the whole fleet again), a series removed when it drops to 0.
 */
class ViolationCounts {
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(private readonly metrics: WebhookMetrics) {}

  change(before: JudgedObject | undefined, after: JudgedObject | undefined): void {
    if (before) this.add(before, -1);
    if (after) this.add(after, 1);
  }

  private add(object: JudgedObject, delta: number): void {
    if (object.denials.length === 0) return;
    let rules = this.counts.get(object.namespace);
    if (!rules) this.counts.set(object.namespace, (rules = new Map()));
    for (const rule of new Set(object.denials.map((denial) => denial.rule))) {
      const count = (rules.get(rule) ?? 0) + delta;
      if (count > 0) {
        rules.set(rule, count);
        this.metrics.auditViolations.set({ namespace: object.namespace, rule }, count);
      } else {
        rules.delete(rule);
        this.metrics.auditViolations.remove({ namespace: object.namespace, rule });
      }
    }
    if (rules.size === 0) this.counts.delete(object.namespace);
  }
}
