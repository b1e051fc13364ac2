import { performance } from 'node:perf_hooks';
import { ApiClient } from './api-client.js';
import { sleep } from './backoff.js';
import { isMissingObject, LEASES, namespacedPath, toClusterError, type ClusterConnection, type ClusterRequest } from './connection.js';
import type { FailureLog } from './failure-log.js';
import type { ClusterErrorKind } from '../telemetry/vocabulary.js';

export interface LeaseTiming {
  /** How long a lease holds without renewal: a candidate waits this long after it last saw the lease change. */
  readonly leaseDurationMs: number;
  /** How often the leader renews the lease. */
  readonly renewIntervalMs: number;
  /** How often a candidate tries to take the lease, and the leader retries a failed renewal. */
  readonly retryIntervalMs: number;
}

/** client-go's defaults for a controller's leader election. */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationMs: 15_000, renewIntervalMs: 5_000, retryIntervalMs: 2_000 };

export interface LeaderElectionOptions {
  readonly connection: ClusterConnection;
  readonly namespace: string;
  readonly name: string;
  /** Who holds the lease: the pod's name, unique among the replicas. */
  readonly identity: string;
  readonly timing: LeaseTiming;
  readonly failures: FailureLog;
  /** A request about the lease failed, of this kind (a conflict is a lost race). */
  readonly onWriteError: (kind: ClusterErrorKind) => void;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
}

type Attempt = 'renewed' | 'held-by-another' | 'failed';

/**
 * Leader election on a coordination.k8s.io Lease, with the semantics of client-go's
 * leaderelection package: a lease is taken when it was released (no holder) or has not changed
 * for its whole duration as seen by this replica's own clock (clocks of different machines are
 * never compared); every write carries the resourceVersion that was read, so of two candidates
 * only one wins; the leader renews, and gives up as soon as another holds the lease, or when it
 * could not renew for the lease duration minus one renewal interval, which is before any other
 * replica may take the lease over. On shutdown the lease is released so another takes over at once.
 */
export class LeaderElector {
  private readonly api: ApiClient;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private leading = false;
  /** When this replica last renewed (performance.now()). */
  private renewedAt = 0;
  /** The lease record as last seen, and when it was first seen so (performance.now()). */
  private observed: { record: string; at: number } | undefined;
  /** The lease as last written by this replica: what a release updates. */
  private written: Lease | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = new ApiClient(options.connection);
  }

  start(): void {
    this.running ??= this.run();
  }

  /** True while this replica may write: checked before every write, so losing the lease stops writes at once. */
  isLeader(): boolean {
    return this.leading && performance.now() - this.renewedAt < this.renewDeadlineMs;
  }

  /** Stops campaigning and, when leading, releases the lease by clearing its holder. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    if (this.isLeader() && this.written) await this.release(this.written);
    this.stepDown();
  }

  private get renewDeadlineMs(): number {
    return this.options.timing.leaseDurationMs - this.options.timing.renewIntervalMs;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopping;
    const { retryIntervalMs, renewIntervalMs } = this.options.timing;
    while (!signal.aborted) {
      const attempt = await this.tryAcquireOrRenew();
      if (signal.aborted) return;
      if (attempt === 'renewed') {
        this.renewedAt = performance.now();
        if (!this.leading) {
          this.leading = true;
          this.options.onStartedLeading();
        }
      } else if (attempt === 'held-by-another' || !this.isLeader()) {
        this.stepDown();
      }
      // Candidates retry with up to 20 % jitter, so that they do not ask all at once.
      const wait = attempt === 'renewed' ? renewIntervalMs : this.leading ? retryIntervalMs : retryIntervalMs * (1 + Math.random() * 0.2);
      await sleep(wait, signal);
    }
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { namespace, name, identity, timing } = this.options;
    const now = new Date();
    const durationSeconds = Math.ceil(timing.leaseDurationMs / 1000);
    const claim: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      const current = await this.readLease();
      if (!current) return this.wrote(await this.send('create', () => this.api.create(namespacedPath(LEASES, namespace), { metadata: { name, namespace }, spec: claim })));
      const record = current.spec ?? {};
      this.observe(record);
      const holder = record.holderIdentity ?? '';
      const heldUntil = (this.observed?.at ?? 0) + (record.leaseDurationSeconds ?? 0) * 1000;
      if (holder !== '' && holder !== identity && heldUntil > performance.now()) return 'held-by-another';

      const renewing = holder === identity;
      const next: LeaseSpec = {
        ...claim,
        ...(renewing && record.acquireTime ? { acquireTime: record.acquireTime } : {}),
        leaseTransitions: (record.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      };
      const body: Lease = { metadata: { name, namespace, resourceVersion: current.metadata?.resourceVersion ?? '' }, spec: next };
      return this.wrote(await this.send('update', () => this.api.replace(namespacedPath(LEASES, namespace, name), body)));
    } catch (error) {
      const problem = toClusterError(error, this.request('update'), this.options.connection);
      this.options.onWriteError(problem.kind);
      // A conflict is the other candidate winning the race: the normal course of an election.
      if (problem.kind !== 'conflict') this.options.failures.failed('leader election', problem.message);
      return 'failed';
    }
  }

  private wrote(lease: Lease): Attempt {
    this.written = lease;
    this.observe(lease.spec ?? {});
    this.options.failures.succeeded('leader election');
    return 'renewed';
  }

  /** Remembers when the record last changed, by this replica's clock, as client-go does. */
  private observe(spec: LeaseSpec): void {
    const record = JSON.stringify([spec.holderIdentity, spec.leaseDurationSeconds, spec.acquireTime, spec.renewTime, spec.leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: performance.now() };
  }

  /** client-go's release: no holder, a one-second duration, so that any candidate takes it at once. */
  private async release(lease: Lease): Promise<void> {
    const { namespace, name } = this.options;
    const now = microTime(new Date());
    const body: Lease = {
      metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion ?? '' },
      spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
    };
    try {
      await this.send('update', () => this.api.replace(namespacedPath(LEASES, namespace, name), body));
    } catch (error) {
      // The others take the lease over when it expires instead.
      const problem = toClusterError(error, this.request('update'), this.options.connection);
      this.options.onWriteError(problem.kind);
      this.options.failures.failed('leader election', problem.message);
    }
  }

  private async readLease(): Promise<Lease | undefined> {
    const { name, namespace } = this.options;
    try {
      return (await this.api.get(namespacedPath(LEASES, namespace, name))) as Lease;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw toClusterError(error, this.request('get'), this.options.connection);
    }
  }

  /** Sends a write; its failure comes back explained, for the verb it was. */
  private async send(verb: ClusterRequest['verb'], write: () => Promise<unknown>): Promise<Lease> {
    try {
      return (await write()) as Lease;
    } catch (error) {
      throw toClusterError(error, this.request(verb), this.options.connection);
    }
  }

  private request(verb: ClusterRequest['verb']): ClusterRequest {
    return { verb, resource: LEASES, namespace: this.options.namespace };
  }
}

/** A coordination.k8s.io/v1 Lease, as far as the election reads and writes it. */
interface Lease {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
  readonly spec?: LeaseSpec;
}

interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** metav1.MicroTime: RFC 3339 with six fractional digits. */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** metav1.MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits (client-node's V1MicroTime writes the same). */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
