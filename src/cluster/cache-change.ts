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
