import type { Labels } from './connection.js';

/**
 * One change to the cluster cache (the MCPServers, the Secrets' names, the namespaces' labels),
 * as plain data that can cross to another thread: the continuous audit keeps the cache in a
 * worker thread, and admission reads a replica of it in the main thread (audit-thread.ts).
 */
export type CacheChange =
  /** An MCPServer as the cache now keeps it (cut down to what the rules read), or `object` undefined: deleted. */
  | { readonly kind: 'mcpserver'; readonly uid: string; readonly object: unknown }
  /** The MCPServers' (re)list has arrived: the changes before this one are the whole collection. */
  | { readonly kind: 'mcpservers-synced' }
  /** Every Secret's key (namespace/name), after a (re)list. */
  | { readonly kind: 'secrets'; readonly keys: readonly string[] }
  | { readonly kind: 'secret'; readonly key: string; readonly present: boolean }
  /** Every namespace's labels, after a (re)list; none when the labels are no longer watched. */
  | { readonly kind: 'namespaces'; readonly labels: readonly (readonly [string, Labels])[] }
  /** One namespace's labels, or undefined: it went away. */
  | { readonly kind: 'namespace'; readonly name: string; readonly labels: Labels | undefined };

/** Where a cache tells its changes, when it is replicated. */
export type Replicate = (change: CacheChange) => void;

/**
 * Changes as they cross to another thread: JSON text, not the structured clone postMessage makes
 * of objects. The receiving thread's JSON.parse shares property names and short values between
 * objects, and lays objects out compactly, where structured clone makes a string of every value:
 * 10,000 cut-down MCPServers took 7.3 MB of the main thread's heap this way against 9.2 MB, for
 * the same time on either side, about 0.5 ms for a message of 256 (docs/performance.md). JSON
 * drops an `undefined` member, which the changes read as absent anyway (a deleted MCPServer, a
 * namespace gone).
 */
export function encodeChanges(changes: readonly CacheChange[]): string {
  return JSON.stringify(changes);
}

export function decodeChanges(text: string): CacheChange[] {
  return JSON.parse(text) as CacheChange[];
}
