import { ClusterError, POLICY_REPORTS, toClusterError, type ClusterConnection } from '../cluster/connection.js';
import { Backoff, type BackoffOptions } from '../cluster/backoff.js';
import type { FailureLog } from '../cluster/failure-log.js';
import type { RateLimiter } from '../cluster/rate-limiter.js';
import type { Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import type { ClusterErrorKind } from '../telemetry/vocabulary.js';
import { buildPolicyReport, NAMESPACE_REPORT_NAME, reportedUid, reportName, type ObjectOutcome, type ReportedObject } from './policy-report.js';
import { CRD_MISSING, PolicyReportWriter, type StoredReport } from './policy-report-writer.js';

/** An MCPServer as its report should say it. */
export interface ReportSubject extends ReportedObject {
  readonly outcome: ObjectOutcome;
  /** When what the report says last changed, in seconds since the epoch. */
  readonly sinceSeconds: number;
}

export interface ReportQueueOptions {
  readonly connection: ClusterConnection;
  /** Every write waits for it: writes are bounded like client-go's QPS and burst. */
  readonly limiter: RateLimiter;
  /** Asked right before each write: only the leader writes. */
  readonly mayWrite: () => boolean;
  /** The MCPServer of this uid as last judged; undefined once it is gone. */
  readonly subject: (uid: string) => ReportSubject | undefined;
  /** Every MCPServer judged so far, for a new leader to bring every report in line. */
  readonly subjects: () => Iterable<string>;
  /** Whether the cache holds an MCPServer of this uid: a report of ours about any other is left behind. */
  readonly exists: (uid: string) => boolean;
  readonly failures: FailureLog;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  /** How long changes are gathered before the writes begin. */
  readonly delayMs: number;
  /** While the PolicyReport CRD is missing, how often it is looked for again. */
  readonly crdRecheckMs: number;
}

/** Writes at once: enough to keep a local API server busy, few enough not to crowd its other clients. */
const MAX_IN_FLIGHT = 16;

/** What the API server refuses for good: the same write would be refused again until someone acts. */
const REFUSED_FOR_GOOD: ReadonlySet<ClusterErrorKind> = new Set(['forbidden', 'unauthorized', 'too-large', 'invalid']);

/** What is to be done with one report, by its name. */
type Work = { readonly write: string } | { readonly remove: string };

/**
 * Brings the PolicyReports in the cluster in line with the audit's verdicts while this replica
 * leads: one report per MCPServer, written when what it says has changed (known from the hash
 * its metadata carries, so an unchanged report costs no request), removed when its MCPServer goes
 * (the ownerReference has the garbage collector do the same), and the namespace-wide reports of
 * earlier versions removed. Writes go through the rate limiter, a few at a time.
 *
 * A write the API server refuses for good (403, 401, 413, 422) is logged once per namespace and
 * cause, with the fix, and counted in audit_write_errors_total; the namespace's reports are then
 * tried again with backoff, one at a time, never in a loop. Any other failure is retried with
 * backoff too.
 */
export class ReportQueue {
  private readonly writer: PolicyReportWriter;
  /** Our reports in the cluster, by name; undefined until listed in this term of leadership. */
  private stored: Map<string, StoredReport> | undefined;
  private readonly pending = new Map<string, Work>();
  /** Work that failed, by name, with when it is due again. */
  private readonly parked = new Map<string, { work: Work; dueAt: number }>();
  private readonly writing = new Set<string>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly refusals: Refusals;
  private pumpTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private listing = false;
  private crdMissing = false;
  private readonly stopping = new AbortController();

  constructor(private readonly options: ReportQueueOptions) {
    this.writer = new PolicyReportWriter(options.connection);
    this.backoff = new Backoff(options.backoff);
    this.refusals = new Refusals(options.logger, options.backoff);
  }

  /** What the MCPServer of this uid says has changed. */
  changed(uid: string): void {
    this.add(reportName(uid), { write: uid });
  }

  /** The MCPServer of this uid is gone: its report goes too. */
  removed(uid: string, namespace: string): void {
    this.add(reportName(uid), { remove: namespace });
  }

  /** A term of leadership begins: what is in the cluster is read, then every report brought in line. */
  startedLeading(): void {
    this.stored = undefined;
    void this.list();
  }

  stoppedLeading(): void {
    this.stored = undefined;
    this.pending.clear();
    this.parked.clear();
    clearTimeout(this.pumpTimer);
    clearTimeout(this.wakeTimer);
    this.pumpTimer = this.wakeTimer = undefined;
  }

  /** Stops writing; resolves once the writes in flight have ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.stoppedLeading();
    if (this.writing.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private add(name: string, work: Work): void {
    // Outside a term of leadership nothing is kept: a new term brings every report in line anyway.
    // Within one, work waits even while a renewal is late (mayWrite() false for a moment).
    if (!this.stored && !this.listing) return;
    this.parked.delete(name);
    this.pending.set(name, work);
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, this.options.delayMs);
  }

  private async list(): Promise<void> {
    if (this.listing || !this.options.mayWrite()) return;
    this.listing = true;
    try {
      const reports = await this.writer.list();
      if (!this.options.mayWrite()) return;
      if (reports === CRD_MISSING) return this.noteCrdMissing();
      this.noteCrdPresent();
      this.options.failures.succeeded('policy reports');
      this.stored = new Map(reports.map((report) => [report.name, report]));
      for (const report of reports) {
        const uid = reportedUid(report.name);
        // Earlier versions kept one report per namespace, named like the reports' source.
        if (report.name === NAMESPACE_REPORT_NAME || uid === undefined || !this.options.exists(uid)) this.pending.set(report.name, { remove: report.namespace });
      }
      for (const uid of this.options.subjects()) this.pending.set(reportName(uid), { write: uid });
      this.pump();
    } catch (error) {
      const problem = toClusterError(error, { verb: 'list', resource: POLICY_REPORTS }, this.options.connection);
      this.options.failures.failed('policy reports', problem.message);
      this.retryListIn(this.backoff.next());
    } finally {
      this.listing = false;
    }
  }

  private retryListIn(ms: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      void this.list();
    }, ms);
  }

  /** Starts as many writes as may be in flight. */
  private pump(): void {
    if (!this.stored || !this.options.mayWrite()) return;
    for (const [name, work] of this.pending) {
      if (this.writing.size >= MAX_IN_FLIGHT) return;
      // One write of a report at a time: a change while it is written waits for the next.
      if (this.writing.has(name)) continue;
      this.pending.delete(name);
      this.writing.add(name);
      void this.process(name, work).finally(() => {
        this.writing.delete(name);
        if (this.writing.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        this.pump();
      });
    }
  }

  private async process(name: string, work: Work): Promise<void> {
    const stored = this.stored;
    if (!stored) return;
    const subject = 'write' in work ? this.options.subject(work.write) : undefined;
    const namespace = subject?.namespace ?? ('remove' in work ? work.remove : stored.get(name)?.namespace);
    const known = stored.get(name);
    // Nothing to do: the report says it already, or there is none to remove.
    if (subject ? known?.hash === subject.outcome.hash : known === undefined) return;
    if (namespace === undefined) return;
    const blockedUntil = this.refusals.blockedUntil(namespace);
    if (blockedUntil !== undefined) return this.park(name, work, blockedUntil);
    if (!(await this.options.limiter.take(this.stopping.signal)) || this.stored !== stored) return;
    // A renewal running late: the work waits for it rather than being lost (a lost term clears it).
    if (!this.options.mayWrite()) return this.park(name, work, performance.now() + this.backoff.next());
    try {
      const outcome = subject ? await this.writer.put(buildPolicyReport(subject, subject.outcome, subject.sinceSeconds), known) : await this.writer.remove(namespace, name);
      if (outcome === CRD_MISSING) {
        this.pending.set(name, work);
        this.stored = undefined;
        return this.noteCrdMissing();
      }
      if (outcome === 'deleted') stored.delete(name);
      // What was written, with the strings this queue holds already (about 1.5 MB less at 10,000
      // reports than copies parsed from the answer).
      else stored.set(name, { namespace, name, hash: subject?.outcome.hash, resourceVersion: outcome.resourceVersion });
      this.options.logger.debug({ event: 'policy-report', namespace, name, outcome: outcome === 'deleted' ? 'deleted' : known ? 'updated' : 'created' }, `PolicyReport ${namespace}/${name} written`);
      this.backoff.reset();
      this.options.failures.succeeded('policy reports');
      this.refusals.succeeded(namespace);
    } catch (error) {
      const verb = subject ? (known ? 'update' : 'create') : 'delete';
      const problem = toClusterError(error, { verb, resource: POLICY_REPORTS, namespace }, this.options.connection);
      this.options.metrics.auditWriteErrors.inc({ resource: 'policyreports', error: problem.kind });
      if (REFUSED_FOR_GOOD.has(problem.kind)) return this.park(name, work, this.refusals.refused(namespace, problem));
      // A conflict is someone else's write in between, already retried once: nothing to report.
      if (problem.kind !== 'conflict') this.options.failures.failed('policy reports', problem.message);
      this.park(name, work, performance.now() + this.backoff.next());
    }
  }

  /** Sets work aside until `dueAt` (performance.now() time). */
  private park(name: string, work: Work, dueAt: number): void {
    if (this.pending.has(name)) return; // A newer change of the same report is already waiting.
    this.parked.set(name, { work, dueAt });
    this.wake();
  }

  private wake(): void {
    if (this.wakeTimer || this.parked.size === 0) return;
    let earliest = Infinity;
    for (const { dueAt } of this.parked.values()) earliest = Math.min(earliest, dueAt);
    this.wakeTimer = setTimeout(
      () => {
        this.wakeTimer = undefined;
        const now = performance.now();
        for (const [name, { work, dueAt }] of this.parked) {
          if (dueAt > now) continue;
          this.parked.delete(name);
          if (!this.pending.has(name)) this.pending.set(name, work);
        }
        this.pump();
        this.wake();
      },
      Math.max(0, earliest - performance.now()),
    );
  }

  private noteCrdMissing(): void {
    if (!this.crdMissing) {
      this.crdMissing = true;
      this.options.logger.warn(
        { event: 'policyreport-crd-missing' },
        `the PolicyReport CRD (policyreports.wgpolicyk8s.io, version v1alpha2) is not installed: the continuous audit writes Events but no PolicyReports until it is (looked for again every ${this.options.crdRecheckMs / 1000} s)`,
      );
    }
    this.retryListIn(this.options.crdRecheckMs);
  }

  private noteCrdPresent(): void {
    if (!this.crdMissing) return;
    this.crdMissing = false;
    this.options.logger.info({ event: 'policyreport-crd-found' }, 'the PolicyReport CRD is installed now: the continuous audit writes PolicyReports');
  }
}

/** What an operator does about each refusal. */
const FIX: Partial<Record<ClusterErrorKind, string>> = {
  'too-large': "the API server's request limit (--max-request-bytes) or etcd's is below the size of one MCPServer's report: raise it",
  invalid: "the cluster's PolicyReport CRD refuses the report: install policyreports.wgpolicyk8s.io v1alpha2 as Kyverno or Policy Reporter ship it",
};

/**
 * Refusals for good, by namespace: said once per namespace and cause, at warn, with the fix; while
 * one stands, the namespace's reports wait for the backoff, and then one write tries again.
 */
class Refusals {
  private readonly standing = new Map<string, { kind: ClusterErrorKind; backoff: Backoff; until: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly backoffOptions: BackoffOptions,
  ) {}

  blockedUntil(namespace: string): number | undefined {
    const until = this.standing.get(namespace)?.until;
    return until !== undefined && until > performance.now() ? until : undefined;
  }

  /** Returns until when the namespace's reports wait. */
  refused(namespace: string, problem: ClusterError): number {
    let entry = this.standing.get(namespace);
    if (entry?.kind !== problem.kind) {
      entry = { kind: problem.kind, backoff: new Backoff(this.backoffOptions), until: 0 };
      this.standing.set(namespace, entry);
      const fix = FIX[problem.kind];
      this.logger.warn(
        { event: 'policy-report-refused', namespace, reason: problem.kind, error: problem.message },
        `the API server refuses the PolicyReports of namespace ${namespace} (${problem.kind}): ${problem.message}${fix ? `; ${fix}` : ''}; tried again with backoff, admission is not affected`,
      );
    }
    entry.until = performance.now() + entry.backoff.next();
    return entry.until;
  }

  succeeded(namespace: string): void {
    if (!this.standing.delete(namespace)) return;
    this.logger.info({ event: 'policy-report-accepted', namespace }, `the API server accepts the PolicyReports of namespace ${namespace} again`);
  }
}
