import { watch, type FSWatcher } from 'node:fs';

/** How long to wait for a burst of file-system events to settle before looking. */
const SETTLE_MS = 100;

/**
 * Calls `check` when a file in `dir` may have changed: soon after a file-system event, and
 * every `pollIntervalMs` regardless. Watching the directory rather than the file follows a
 * Kubernetes volume update, which swaps a `..data` symlink instead of writing the file; the
 * poll covers file systems and runtimes that deliver no events at all. Returns a stop function.
 */
export function watchDirectory(dir: string, check: () => void, pollIntervalMs: number): () => void {
  let settle: NodeJS.Timeout | undefined;
  const soon = (): void => {
    clearTimeout(settle);
    settle = setTimeout(check, SETTLE_MS).unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, { persistent: false }, soon);
    // A watcher that fails later (the directory was removed) leaves the poll to do the work.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  const poll = setInterval(check, pollIntervalMs).unref();
  return () => {
    clearTimeout(settle);
    clearInterval(poll);
    watcher?.close();
  };
}
