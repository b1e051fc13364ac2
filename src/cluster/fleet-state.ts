import { Fleet, secretIndexOf, type NamespaceInfo } from '../engine/index.js';
import type { CacheChange } from './cache-change.js';
import type { Labels } from './connection.js';
import { applyLabelsChange, namespaceInfo } from './namespace-labels.js';

/**
 * The MCPServers, the Secrets' names and the namespaces' labels as a sequence of CacheChanges
 * builds them. The cluster cache keeps its own this way, and tells each change on; a replica in
 * another thread (admission's, when the audit runs in a worker) applies the same changes to one
 * of its own, so the two cannot differ in how they read them. Until the MCPServers (and the
 * Secrets, when watched) have been listed there is no fleet: the rules across objects do not run
 * rather than guess.
 */
export class FleetState {
  /** By uid, as the API server last showed them. */
  private readonly objects = new Fleet();
  private readonly secretNames = new Set<string>();
  private readonly labels = new Map<string, Labels>();
  private serversSynced = false;
  private secretsSynced = false;

  /** `secrets`: whether the Secrets' names are watched, and so awaited before there is a fleet. */
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
      case 'namespace':
        applyLabelsChange(this.labels, change);
        return;
    }
  }

  /** Whether the MCPServers have been listed (the Secrets may not have been yet). */
  get mcpserversListed(): boolean {
    return this.serversSynced;
  }

  /** Every MCPServer as last seen, listed or not: for finding what a change affects. */
  get members(): Fleet {
    return this.objects;
  }

  /** The fleet now, or undefined while a list it needs has not arrived. */
  fleet(): Fleet | undefined {
    if (!this.serversSynced || (this.options.secrets && !this.secretsSynced)) return undefined;
    return this.objects;
  }

  namespaceInfo(name: string): NamespaceInfo {
    return namespaceInfo(this.labels, name);
  }
}
