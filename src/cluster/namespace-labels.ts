import type { NamespaceInfo } from '../engine/index.js';
import { isPlainObject } from '../engine/schema.js';
import type { BackoffOptions } from './backoff.js';
import { listNamespaces, NAMESPACES, type ClusterConnection, type Labels } from './connection.js';
import type { CacheChange, Replicate } from './cache-change.js';
import { Informer, type InformerHandlers } from './informer.js';

export interface NamespaceLabelHandlers extends Omit<InformerHandlers, 'synced' | 'changed'> {
  /** Every namespace's labels are known: after the first list and after each relist. */
  synced(): void;
  /** One namespace's labels changed, or it appeared or went away. */
  changed(namespace: string): void;
}

/**
 * The labels of every namespace, kept current by a watch, for the policy's label selectors: an
 * AdmissionReview names the namespace but does not carry its labels.
 */
export class NamespaceLabels {
  private readonly labels = new Map<string, Labels>();
  private readonly informer: Informer;

  /** `replicate`: also tell every change to a replica elsewhere (admission's, when the audit runs in a worker thread). */
  constructor(
    connection: ClusterConnection,
    backoff: BackoffOptions,
    private readonly replicate?: Replicate,
  ) {
    this.informer = new Informer({ connection, resource: NAMESPACES, list: () => listNamespaces(connection), backoff });
  }

  start(handlers: NamespaceLabelHandlers): void {
    this.informer.start({
      ...handlers,
      synced: (items) => {
        const labels = items.flatMap((item) => {
          const namespace = nameAndLabels(item);
          return namespace ? [[namespace.name, namespace.labels] as const] : [];
        });
        this.tell({ kind: 'namespaces', labels });
        handlers.synced();
      },
      changed: (type, item) => {
        const namespace = nameAndLabels(item);
        if (!namespace) return;
        const labels = type === 'DELETED' ? undefined : namespace.labels;
        if (JSON.stringify(labels) === JSON.stringify(this.labels.get(namespace.name))) return;
        this.tell({ kind: 'namespace', name: namespace.name, labels });
        handlers.changed(namespace.name);
      },
    });
  }

  /** Stops watching; the labels are forgotten, by a replica too. */
  stop(): Promise<void> {
    this.tell({ kind: 'namespaces', labels: [] });
    return this.informer.stop();
  }

  info(name: string): NamespaceInfo {
    return namespaceInfo(this.labels, name);
  }

  /** Applies a change here, and tells it to the replica, if any. */
  private tell(change: LabelsChange): void {
    applyLabelsChange(this.labels, change);
    this.replicate?.(change);
  }
}

/** A change of the namespaces' labels, as NamespaceLabels tells it. */
export type LabelsChange = Extract<CacheChange, { readonly kind: 'namespaces' | 'namespace' }>;

/** Applies a change to a map of the namespaces' labels: NamespaceLabels keeps its own this way, and a replica (FleetState) its copy. */
export function applyLabelsChange(labels: Map<string, Labels>, change: LabelsChange): void {
  if (change.kind === 'namespaces') {
    labels.clear();
    for (const [name, known] of change.labels) labels.set(name, known);
  } else if (change.labels === undefined) labels.delete(change.name);
  else labels.set(change.name, change.labels);
}

/** The namespace as the policy sees it: with its labels once they are known, else by its name alone. */
export function namespaceInfo(labels: ReadonlyMap<string, Labels>, name: string): NamespaceInfo {
  const known = labels.get(name);
  return known ? { name, labels: known } : { name };
}

function nameAndLabels(item: unknown): { name: string; labels: Labels } | undefined {
  const metadata = isPlainObject(item) && isPlainObject(item.metadata) ? item.metadata : undefined;
  if (typeof metadata?.name !== 'string') return undefined;
  const labels = isPlainObject(metadata.labels) ? metadata.labels : {};
  return { name: metadata.name, labels: Object.fromEntries(Object.entries(labels).filter((entry): entry is [string, string] => typeof entry[1] === 'string')) };
}
