import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Fleet, NamespaceInfo, Policy, PolicyDocument } from '../engine/index.js';
import { errorFieldsWithoutInput, writeFormattedLines, type Logger, type LogLevel } from '../telemetry/logger.js';
import type { MetricsSnapshot, WebhookMetrics } from '../telemetry/metrics.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from '../cluster/backoff.js';
import { decodeChanges } from '../cluster/cache-change.js';
import type { ConnectOptions } from '../cluster/connection.js';
import { FleetState } from '../cluster/fleet-state.js';
import type { RateLimit } from '../cluster/rate-limiter.js';
import type { AuditTiming } from './continuous-audit.js';

/** What the worker thread needs to run the continuous audit: plain data, as it crosses threads. */
export interface AuditWorkerSettings {
  readonly connect: ConnectOptions;
  readonly identity: string;
  readonly leaseNamespace: string;
  readonly watchSecrets: boolean;
  readonly writeLimit: RateLimit;
  readonly timing?: AuditTiming;
}

/** The worker's `workerData`. */
export interface AuditWorkerData extends AuditWorkerSettings {
  readonly logLevel: LogLevel;
  readonly policy: PolicyMessage;
}

interface PolicyMessage {
  readonly document: PolicyDocument;
  readonly source: string;
}

/** From the main thread to the worker. */
export type ToWorker =
  /** The last changes of the cache are applied: the worker may send the next. */
  | { readonly kind: 'applied' }
  | ({ readonly kind: 'policy' } & PolicyMessage)
  | { readonly kind: 'metrics'; readonly id: number }
  | { readonly kind: 'stop' };

/** From the worker to the main thread. */
export type FromWorker =
  /** CacheChanges, encodeChanges' text. */
  | { readonly kind: 'cache'; readonly changes: string }
  | { readonly kind: 'log'; readonly lines: string }
  | { readonly kind: 'metrics'; readonly id: number; readonly snapshot: MetricsSnapshot }
  | { readonly kind: 'stopped' };

export interface AuditThreadOptions extends AuditWorkerSettings {
  /** The policy in force now: the worker gets it at start and at each reload. */
  readonly policy: () => Policy;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** The worker's module: the audit worker beside this file by default (tests start the built one). */
  readonly workerModule?: URL;
  /** Waits before a worker that stopped on its own is started again. */
  readonly restartBackoff?: BackoffOptions;
}

/** How long a scrape of /metrics waits for the worker's counts before it shows the last ones. */
const METRICS_WAIT_MS = 2000;

/**
 * The worker's young generation: semi-spaces of 1 MiB, V8's least, so a new space of 2 MiB. The
 * image gives node --max-semi-space-size=8 for admission's throughput under load (docs/performance.md);
 * the worker does not need it, and there its new space alone held 16 MiB of resident memory
 * through a first pass. With 1 MiB (and this round's other savings): peak RSS 177 to 182 against
 * 196 to 201 MiB at 10,000 MCPServers, for about 3 to 4 s more CPU over a 40 s pass, most likely
 * the more frequent scavenges (docs/performance.md).
 */
const WORKER_SEMI_SPACE_MB = 1;

/**
 * The continuous audit (`serve --audit`) in a worker thread of its own, seen from the main thread.
 * The worker lists and watches the cluster, judges, and writes PolicyReports, Events and the
 * Lease; its event loop and its heap are its own, so that a first pass over thousands of
 * MCPServers (judging, serialising and encrypting thousands of writes, and their garbage) never
 * holds an admission review up. Here is only what admission reads: a replica of the worker's
 * cluster cache (the MCPServers, the Secrets' names, the namespaces' labels) kept in step by its
 * changes. The worker's log lines are written through this thread's logger, and its metrics are
 * added to this thread's /metrics.
 *
 * A worker that stops on its own (a fault of ours) is logged and started again with backoff;
 * meanwhile admission goes on without the rules across objects, which never deny on a guess.
 */
export class AuditThread {
  private worker: Worker | undefined;
  private replica: FleetState;
  private readonly restartBackoff: BackoffOptions;
  private readonly restarts: Backoff;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private startedAt = 0;
  /** The worker's metrics as last seen; none while no worker runs. */
  private lastMetrics: MetricsSnapshot = [];
  private readonly waitingForMetrics = new Map<number, (snapshot: MetricsSnapshot) => void>();
  private nextMetricsId = 0;
  private stopped: (() => void) | undefined;

  constructor(private readonly options: AuditThreadOptions) {
    this.replica = new FleetState({ secrets: options.watchSecrets });
    this.restartBackoff = options.restartBackoff ?? DEFAULT_BACKOFF;
    this.restarts = new Backoff(this.restartBackoff);
    options.metrics.include(() => this.workerMetrics());
  }

  start(): void {
    if (!this.worker && !this.stopping) this.spawn();
  }

  /** The MCPServers of the cluster, for the rules across objects; undefined until the worker's watch has synced. */
  fleet(): Fleet | undefined {
    return this.replica.fleet();
  }

  namespaceInfo(name: string): NamespaceInfo {
    return this.replica.namespaceInfo(name);
  }

  policyReloaded(): void {
    this.worker?.postMessage({ kind: 'policy', ...policyMessage(this.options.policy()) } satisfies ToWorker);
  }

  /** Has the worker stop the audit (it releases the Lease when it holds it), then ends the thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    // While it releases the Lease, the thread keeps the process alive.
    worker.ref();
    await new Promise<void>((resolve) => {
      this.stopped = resolve;
      worker.once('exit', () => resolve());
      worker.postMessage({ kind: 'stop' } satisfies ToWorker);
    });
    await worker.terminate();
  }

  private spawn(): void {
    const { connect, identity, leaseNamespace, watchSecrets, writeLimit, timing, logger } = this.options;
    const workerData: AuditWorkerData = {
      connect,
      identity,
      leaseNamespace,
      watchSecrets,
      writeLimit,
      ...(timing ? { timing } : {}),
      logLevel: logger.level as LogLevel,
      policy: policyMessage(this.options.policy()),
    };
    // V8 sizes an isolate's heap from its flags when it makes the isolate, and a --max-semi-space-size
    // given to node wins over a Worker's resourceLimits: so the flag is set to the worker's size right
    // before its isolate is made. The main thread's heap, sized at start, keeps its own; the audit's
    // worker is the only isolate the process makes after it.
    setFlagsFromString(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
    const worker = new Worker(this.options.workerModule ?? new URL('./audit-worker.js', import.meta.url), { workerData });
    // The thread alone does not keep the process alive: the servers do, until shutdown.
    worker.unref();
    this.worker = worker;
    this.startedAt = Date.now();
    worker.on('message', (message: FromWorker) => this.received(message));
    worker.on('error', (error) => {
      logger.error({ event: 'audit-internal-error', error: errorFieldsWithoutInput(error) }, "unexpected error in the continuous audit's worker thread");
    });
    worker.on('exit', (code) => this.exited(worker, code));
  }

  private received(message: FromWorker): void {
    switch (message.kind) {
      case 'cache':
        for (const change of decodeChanges(message.changes)) this.replica.apply(change);
        this.worker?.postMessage({ kind: 'applied' } satisfies ToWorker);
        return;
      case 'log':
        writeFormattedLines(this.options.logger, message.lines);
        return;
      case 'metrics':
        this.waitingForMetrics.get(message.id)?.(message.snapshot);
        return;
      case 'stopped':
        this.stopped?.();
        return;
    }
  }

  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.lastMetrics = [];
    for (const answer of this.waitingForMetrics.values()) answer([]);
    if (this.stopping) return;
    // What it had seen is gone with it: no fleet until a new worker has listed the cluster again.
    this.replica = new FleetState({ secrets: this.options.watchSecrets });
    if (Date.now() - this.startedAt > this.restartBackoff.maxMs) this.restarts.reset();
    const waitMs = this.restarts.next();
    this.options.logger.error(
      { event: 'audit-worker-exit', exitCode: code, restartInSeconds: Math.round(waitMs / 100) / 10 },
      `the continuous audit's worker thread stopped (exit code ${code}); it starts again in ${(waitMs / 1000).toFixed(1)} s, and until it has listed the cluster the rules across objects do not run at admission`,
    );
    this.restartTimer = setTimeout(() => this.start(), waitMs).unref();
  }

  /** The worker's metrics for a scrape: asked for, or the last ones if it does not answer in time. */
  private workerMetrics(): Promise<MetricsSnapshot> {
    const worker = this.worker;
    if (!worker) return Promise.resolve(this.lastMetrics);
    const id = ++this.nextMetricsId;
    return new Promise((resolve) => {
      const answer = (snapshot: MetricsSnapshot): void => {
        clearTimeout(timer);
        this.waitingForMetrics.delete(id);
        if (this.worker === worker) this.lastMetrics = snapshot;
        resolve(snapshot);
      };
      const timer = setTimeout(() => answer(this.lastMetrics), METRICS_WAIT_MS);
      this.waitingForMetrics.set(id, answer);
      worker.postMessage({ kind: 'metrics', id } satisfies ToWorker);
    });
  }
}

function policyMessage(policy: Policy): PolicyMessage {
  return { document: policy.document, source: policy.source };
}
