import { ApiClient, ApiError } from './api-client.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import {
  collectionPath,
  METADATA_ONLY,
  toClusterError,
  watchErrorToClusterError,
  type ApiResource,
  type ClusterConnection,
  type ClusterError,
  type Listed,
} from './connection.js';
import type { RestartReason } from '../telemetry/vocabulary.js';

/**
 * A list-then-watch loop over one collection, as client-go's reflector runs it.
 *
 * Why not client-node's `makeInformer`/`ListWatch`: it stops for good on any watch error other
 * than 410 or its own timeout (the caller must notice and restart it), waits without jitter, does
 * not say when a list (a full picture of the collection) has arrived, and does not ask for
 * bookmarks; and importing client-node costs about 50 MiB (api-client.ts). The stream itself is
 * ApiClient's watch: one JSON event per line, ended when it stays silent for 30 s (a "timeout"
 * here, picked up again at once).
 */

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerHandlers {
  /** The whole collection, after the first list and after every relist. */
  synced(items: readonly unknown[]): void;
  changed(type: ChangeType, item: unknown): void;
  restarted(reason: RestartReason): void;
  /** A list or watch failed; already explained. The informer retries on its own. */
  failed(error: ClusterError): void;
  /** A list or watch worked. */
  succeeded(): void;
}

export interface InformerOptions {
  readonly connection: ClusterConnection;
  readonly resource: ApiResource;
  /** The whole collection, each item already cut down by `keep`. */
  readonly list: () => Promise<Listed<unknown>>;
  readonly backoff: BackoffOptions;
  /** What is kept of each watched object as it arrives, as `list` keeps it; by default all of it. */
  readonly keep?: (item: unknown) => unknown;
  /** Watch PartialObjectMetadata (names, labels), never the objects' data: for Secrets. */
  readonly metadataOnly?: boolean;
}

type WatchOutcome = { readonly reason: Exclude<RestartReason, 'error'> } | { readonly reason: 'error'; readonly error: ClusterError };

export class Informer {
  private readonly stopping = new AbortController();
  private readonly backoff: Backoff;
  private readonly api: ApiClient;
  private running: Promise<void> | undefined;

  constructor(private readonly options: InformerOptions) {
    this.backoff = new Backoff(options.backoff);
    this.api = new ApiClient(options.connection);
  }

  start(handlers: InformerHandlers): void {
    this.running ??= this.run(handlers);
  }

  /** Ends the watch in progress; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async run(handlers: InformerHandlers): Promise<void> {
    const { signal } = this.stopping;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      if (resourceVersion === undefined) {
        try {
          const listed = await this.options.list();
          if (signal.aborted) return;
          // A list without a resourceVersion (never seen from a real API server) is watched from "now".
          resourceVersion = listed.resourceVersion ?? '';
          this.backoff.reset();
          handlers.succeeded();
          handlers.synced(listed.items);
        } catch (error) {
          handlers.failed(toClusterError(error, { verb: 'list', resource: this.options.resource }, this.options.connection));
          await sleep(this.backoff.next(), signal);
          continue;
        }
      }
      const outcome = await this.watchOnce(resourceVersion, handlers, (next) => (resourceVersion = next));
      if (signal.aborted) return;
      handlers.restarted(outcome.reason);
      if (outcome.reason === 'error') handlers.failed(outcome.error);
      if (outcome.reason === 'expired') resourceVersion = undefined;
      // After 30 s of silence (timeout) the watch is started again at once: that wait was the backoff.
      // Otherwise a short wait, which grows while nothing works, so that a server that ends every
      // watch at once is not hammered.
      if (outcome.reason !== 'timeout') await sleep(this.backoff.next(), signal);
    }
  }

  /** One watch request, from `resourceVersion` until the stream ends; never rejects. */
  private async watchOnce(resourceVersion: string, handlers: InformerHandlers, advance: (resourceVersion: string) => void): Promise<WatchOutcome> {
    const { connection, resource } = this.options;
    const { signal } = this.stopping;
    let outcome: WatchOutcome | undefined;
    const stream = this.api.watch(
      collectionPath(resource),
      { resourceVersion, allowWatchBookmarks: true },
      (type, object) => {
        if (outcome) return;
        if (type === 'ERROR') {
          const code = (object as { code?: unknown } | null)?.code;
          outcome = code === 410 ? { reason: 'expired' } : { reason: 'error', error: watchErrorToClusterError(object, { verb: 'watch', resource }, connection) };
          stream.abort();
          return;
        }
        const next = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
        if (typeof next === 'string' && next !== '') advance(next);
        // Any event, a bookmark too, shows the watch works: the next failure starts the backoff afresh.
        this.backoff.reset();
        handlers.succeeded();
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') handlers.changed(type, this.options.keep ? this.options.keep(object) : object);
      },
      this.options.metadataOnly ? METADATA_ONLY.watch : undefined,
    );
    const onStop = (): void => stream.abort();
    signal.addEventListener('abort', onStop, { once: true });
    try {
      const end = await stream.ended;
      if (outcome) return outcome;
      if ('error' in end) {
        if (end.error instanceof ApiError && end.error.code === 410) return { reason: 'expired' };
        return { reason: 'error', error: toClusterError(end.error, { verb: 'watch', resource }, connection) };
      }
      // Only an answer of 200 opens a stream that can end without an error.
      if (end.reason === 'closed' && !signal.aborted) handlers.succeeded();
      return { reason: end.reason === 'silent' ? 'timeout' : 'closed' };
    } finally {
      signal.removeEventListener('abort', onStop);
    }
  }
}
