import { objectMetadata, type Fleet } from '../engine/index.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import type { WatchedResource } from '../telemetry/vocabulary.js';
import type { FailureLog } from './failure-log.js';
import { secretIndexOf, secretKey } from './audit.js';
import type { BackoffOptions } from './backoff.js';
import { listMCPServers, listSecretsMetadata, metadataOnly, MCPSERVERS, SECRETS, type ClusterConnection } from './cluster.js';
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

export interface FleetWatchOptions {
  readonly connection: ClusterConnection;
  readonly backoff: BackoffOptions;
  /** Also keep which Secrets exist, from their metadata alone (the rule referenced-secret). */
  readonly secrets: boolean;
  readonly reports: WatchReports;
}

/** Told of the MCPServers as they come: the whole collection after each (re)list, then each change. */
export interface FleetListener {
  synced(objects: ReadonlyMap<string, unknown>, gone: readonly unknown[]): void;
  changed(type: ChangeType, object: unknown, previous: unknown): void;
}

/**
 * The MCPServers of the cluster kept in memory from a list and a watch, and the names of its
 * Secrets when asked: the fleet the rules across objects look at, in `serve` (admission never
 * calls the API server) and in the continuous audit. Until the first list has arrived (and the
 * Secrets' too, when watched) there is no fleet: those rules do not run rather than guess.
 */
export class FleetWatch {
  private readonly servers: Informer;
  private readonly secretsInformer: Informer | undefined;
  /** By uid, as the API server last showed them. */
  private readonly objects = new Map<string, unknown>();
  private readonly secretNames = new Set<string>();
  private serversSynced = false;
  private secretsSynced = false;
  /** The fleet as last built; a new one after any change (rules group a fleet once, by identity). */
  private current: Fleet | undefined;

  constructor(private readonly options: FleetWatchOptions) {
    const { connection, backoff } = options;
    this.servers = new Informer({ connection, resource: MCPSERVERS, list: () => listMCPServers(connection), backoff });
    this.secretsInformer = options.secrets
      ? new Informer({ connection: metadataOnly(connection, 'watch'), resource: SECRETS, list: () => listSecretsMetadata(connection), backoff })
      : undefined;
  }

  start(listener?: FleetListener): void {
    this.servers.start({
      ...this.options.reports('mcpservers'),
      synced: (items) => {
        const gone = this.replace(items);
        this.serversSynced = true;
        listener?.synced(this.objects, gone);
      },
      changed: (type, item) => {
        const previous = this.change(type, item);
        listener?.changed(type, item, previous);
      },
    });
    this.secretsInformer?.start({
      ...this.options.reports('secrets'),
      synced: (items) => {
        this.secretNames.clear();
        for (const item of items) this.secretNames.add(secretKey(item));
        this.secretsSynced = true;
        this.current = undefined;
      },
      changed: (type, item) => {
        if (type === 'DELETED') this.secretNames.delete(secretKey(item));
        else this.secretNames.add(secretKey(item));
        this.current = undefined;
      },
    });
  }

  async stop(): Promise<void> {
    await Promise.all([this.servers.stop(), this.secretsInformer?.stop()]);
  }

  get synced(): boolean {
    return this.serversSynced;
  }

  /** The MCPServers by uid, as last seen. */
  get all(): ReadonlyMap<string, unknown> {
    return this.objects;
  }

  /** The fleet now, or undefined while a watch it needs has not delivered its first list. */
  fleet(): Fleet | undefined {
    if (!this.serversSynced || (this.secretsInformer && !this.secretsSynced)) return undefined;
    this.current ??= {
      members: [...this.objects].map(([id, object]) => ({ id, object })),
      ...(this.secretsInformer ? { secrets: secretIndexOf(this.secretNames) } : {}),
    };
    return this.current;
  }

  /** Takes a (re)list; returns the objects that were deleted while the watch was down. */
  private replace(items: readonly unknown[]): unknown[] {
    const listed = new Map<string, unknown>();
    for (const item of items) {
      const uid = objectMetadata(item).uid;
      if (uid !== undefined) listed.set(uid, item);
    }
    const gone = [...this.objects].filter(([uid]) => !listed.has(uid)).map(([, object]) => object);
    this.objects.clear();
    for (const [uid, item] of listed) this.objects.set(uid, item);
    this.current = undefined;
    return gone;
  }

  /** Applies one change; returns the object's version before it. */
  private change(type: ChangeType, item: unknown): unknown {
    const uid = objectMetadata(item).uid;
    if (uid === undefined) return undefined;
    const previous = this.objects.get(uid);
    if (type === 'DELETED') this.objects.delete(uid);
    else this.objects.set(uid, item);
    this.current = undefined;
    return previous;
  }
}

