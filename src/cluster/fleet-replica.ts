import { Fleet, secretIndexOf, type NamespaceInfo } from '../engine/index.js';
import type { CacheChange } from './cache-change.js';
import type { Labels } from './connection.js';
import { namespaceInfo } from './namespace-labels.js';

/**
 * A copy of the cluster cache kept in step by its changes, for the fleet rules at admission. Like
 * the cache, it has no fleet until the MCPServers (and the Secrets, when watched) have been
 * listed: the rules across objects do not run rather than guess.
 */
export class FleetReplica {
  private readonly objects = new Fleet();
  private readonly secretNames = new Set<string>();
  private readonly labels = new Map<string, Labels>();
  private serversSynced = false;
  private secretsSynced = false;

  constructor(private readonly options: { readonly secrets: boolean }) {
    if (options.secrets) this.objects.secrets = secretIndexOf(this.secretNames);
  }

  apply(change: CacheChange): void {
    switch (change.kind) {
      case 'mcpserver':
        if (change.object === undefined) this.objects.delete(change.uid);
        else this.objects.set(change.uid, change.object);
        return;
      case 'mcpservers-synced':
        this.serversSynced = true;
        return;
      case 'secrets':
        this.secretNames.clear();
        for (const key of change.keys) this.secretNames.add(key);
        this.secretsSynced = true;
        return;
      case 'secret':
        if (change.present) this.secretNames.add(change.key);
        else this.secretNames.delete(change.key);
        return;
      case 'namespaces':
        this.labels.clear();
        for (const [name, labels] of change.labels) this.labels.set(name, labels);
        return;
      case 'namespace':
        if (change.labels === undefined) this.labels.delete(change.name);
        else this.labels.set(change.name, change.labels);
        return;
    }
  }

  /** The fleet now, or undefined while the cache it copies had not synced. */
  fleet(): Fleet | undefined {
    if (!this.serversSynced || (this.options.secrets && !this.secretsSynced)) return undefined;
    return this.objects;
  }

  namespaceInfo(name: string): NamespaceInfo {
    return namespaceInfo(this.labels, name);
  }
}
