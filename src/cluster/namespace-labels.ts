import type { NamespaceInfo } from '../engine/index.js';
import { isPlainObject } from '../engine/schema.js';
import type { BackoffOptions } from './backoff.js';
import { listNamespaces, NAMESPACES, type ClusterConnection, type Labels } from './connection.js';
import type { Replicate } from './cache-change.js';
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
        this.labels.clear();
        for (const item of items) {
          const namespace = nameAndLabels(item);
          if (namespace) this.labels.set(namespace.name, namespace.labels);
        }
        this.replicate?.({ kind: 'namespaces', labels: [...this.labels] });
        handlers.synced();
      },
      changed: (type, item) => {
        const namespace = nameAndLabels(item);
        if (!namespace) return;
        const before = JSON.stringify(this.labels.get(namespace.name));
        if (type === 'DELETED') this.labels.delete(namespace.name);
        else this.labels.set(namespace.name, namespace.labels);
        if (JSON.stringify(this.labels.get(namespace.name)) === before) return;
        this.replicate?.({ kind: 'namespace', name: namespace.name, labels: this.labels.get(namespace.name) });
        handlers.changed(namespace.name);
      },
    });
  }

  /** Stops watching; a replica forgets the labels too. */
  stop(): Promise<void> {
    this.replicate?.({ kind: 'namespaces', labels: [] });
    return this.informer.stop();
  }

  info(name: string): NamespaceInfo {
    return namespaceInfo(this.labels, name);
  }
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
