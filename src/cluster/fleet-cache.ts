import { judgedFields, objectMetadata, secretKey, type Fleet } from '../engine/index.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import type { WatchedResource } from '../telemetry/vocabulary.js';
import type { BackoffOptions } from './backoff.js';
import { listMCPServers, listSecretsMetadata, MCPSERVERS, SECRETS, type ClusterConnection } from './connection.js';
import type { FailureLog } from './failure-log.js';
import type { CacheChange, Replicate } from './cache-change.js';
import { FleetState } from './fleet-state.js';
import { Informer, type ChangeType, type InformerHandlers } from './informer.js';

/** What a watch reports besides its data: restarts to the metrics, failures to the log. */
export type WatchReports = (resource: WatchedResource) => Pick<InformerHandlers, 'restarted' | 'failed' | 'succeeded'>;

/** Each watch's restarts counted by resource and reason; its failures logged once by `failures`, as the part `watch <resource>`. */
export function watchReports(metrics: WebhookMetrics, failures: FailureLog): WatchReports {
  return (resource) => {
    const part = `watch ${resource}`;
    return {
      restarted: (reason) => metrics.auditWatchRestarts.inc({ resource, reason }),
      failed: (error) => failures.failed(part, error.message),
      succeeded: () => failures.succeeded(part),
    };
  };
}

export interface FleetCacheOptions {
  readonly connection: ClusterConnection;
  readonly backoff: BackoffOptions;
  /** Also keep which Secrets exist, from their metadata alone (the rule referenced-secret). */
  readonly secrets: boolean;
  readonly reports: WatchReports;
  /** Also tell every change to a replica elsewhere (admission's, when the audit runs in a worker thread). */
  readonly replicate?: Replicate;
}

/** Told of the MCPServers as they come: after each (re)list, then each change. */
export interface FleetListener {
  /** `gone`: the objects deleted while the watch was down (none after the first list). */
  synced(fleet: Fleet, gone: readonly unknown[]): void;
  /** `previous`: the object as it was before the change, if it was known. */
  changed(type: ChangeType, object: unknown, previous: unknown): void;
}

/**
 * The MCPServers of the cluster kept in memory from a list and a watch, and the names of its
 * Secrets when asked: the one cache that the fleet rules at admission (admission never calls the
 * API server) and the continuous audit both read. Each object is cut down to what the rules read
 * as it arrives (judgedFields), and the fleet is changed in place, one object at a time, so that
 * thousands of MCPServers cost little memory and a change costs only that object. Until the first
 * list has arrived (and the Secrets' too, when watched) there is no fleet: the rules across
 * objects do not run rather than guess.
 */
export class FleetCache {
  private readonly servers: Informer;
  private readonly secretsInformer: Informer | undefined;
  /** What the watches have shown, built from the same changes a replica of the cache applies. */
  private readonly state: FleetState;

  constructor(private readonly options: FleetCacheOptions) {
    const { connection, backoff } = options;
    this.servers = new Informer({ connection, resource: MCPSERVERS, list: () => listMCPServers(connection, { keep: judgedFields }), keep: judgedFields, backoff });
    this.secretsInformer = options.secrets
      ? new Informer({ connection, metadataOnly: true, resource: SECRETS, list: () => listSecretsMetadata(connection, secretKey), keep: secretKey, backoff })
      : undefined;
    this.state = new FleetState({ secrets: options.secrets });
  }

  start(listener?: FleetListener): void {
    this.servers.start({
      ...this.options.reports('mcpservers'),
      synced: (items) => {
        const gone = this.replace(items);
        this.tell({ kind: 'mcpservers-synced' });
        listener?.synced(this.state.members, gone);
      },
      changed: (type, item) => {
        const previous = this.change(type, item);
        listener?.changed(type, item, previous);
      },
    });
    this.secretsInformer?.start({
      ...this.options.reports('secrets'),
      synced: (keys) => this.tell({ kind: 'secrets', keys: keys.map(String) }),
      changed: (type, key) => this.tell({ kind: 'secret', key: String(key), present: type !== 'DELETED' }),
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.servers.stop(), this.secretsInformer?.stop()]);
  }

  get synced(): boolean {
    return this.state.mcpserversListed;
  }

  /** The MCPServer of this uid, as last seen (cut down to what the rules read). */
  get(uid: string): unknown {
    return this.state.members.get(uid);
  }

  /** Every MCPServer as last seen, synced or not: for finding what a change affects. */
  get members(): Fleet {
    return this.state.members;
  }

  /** The fleet now, or undefined while a watch it needs has not delivered its first list. */
  fleet(): Fleet | undefined {
    return this.state.fleet();
  }

  /** Takes a (re)list; returns the objects that were deleted while the watch was down. */
  private replace(items: readonly unknown[]): unknown[] {
    const listed = new Set<string>();
    for (const item of items) {
      const { uid, resourceVersion } = objectMetadata(item);
      if (uid === undefined) continue;
      listed.add(uid);
      // An object the relist shows unchanged keeps its place and its view in the fleet.
      if (resourceVersion === undefined || objectMetadata(this.get(uid)).resourceVersion !== resourceVersion) this.tell({ kind: 'mcpserver', uid, object: item });
    }
    const gone: unknown[] = [];
    for (const uid of [...this.state.members.ids()]) {
      if (listed.has(uid)) continue;
      gone.push(this.get(uid));
      this.tell({ kind: 'mcpserver', uid, object: undefined });
    }
    return gone;
  }

  /** Applies one change; returns the object's version before it. */
  private change(type: ChangeType, item: unknown): unknown {
    const uid = objectMetadata(item).uid;
    if (uid === undefined) return undefined;
    const previous = this.get(uid);
    this.tell({ kind: 'mcpserver', uid, object: type === 'DELETED' ? undefined : item });
    return previous;
  }

  /** Applies a change here, and tells it to the replica, if any. */
  private tell(change: CacheChange): void {
    this.state.apply(change);
    this.options.replicate?.(change);
  }
}
