import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Policy } from '../engine/index.js';
import type { ReloadResult } from '../telemetry/vocabulary.js';
import { watchDirectory } from './directory-watch.js';

export interface PolicyWatcherOptions {
  /** Reads and parses the file; throws with a message fit for the log when it is broken. */
  readonly load: (file: string) => Promise<Policy>;
  readonly pollIntervalMs: number;
  readonly onReload: (result: ReloadResult, policy: Policy | undefined, error: unknown) => void;
}

/**
 * Keeps the policy file's latest good version in force. A changed file is loaded and swapped
 * in whole, so a request is judged by one policy or the other, never a mix; a broken version
 * is refused and the previous policy stays, until the file changes again.
 */
export class PolicyWatcher {
  private policy: Policy | undefined;
  private signature = '';
  private stopWatching: (() => void) | undefined;
  private checking: Promise<void> | undefined;
  private checkAgain = false;

  constructor(
    private readonly file: string,
    private readonly options: PolicyWatcherOptions,
  ) {}

  /** Loads the file (its error, if broken, is the caller's to report) and starts watching it. */
  async start(): Promise<Policy> {
    this.signature = await this.fileSignature();
    this.policy = await this.options.load(this.file);
    this.stopWatching = watchDirectory(dirname(this.file), () => void this.check(), this.options.pollIntervalMs);
    return this.policy;
  }

  current(): Policy {
    if (!this.policy) throw new Error('PolicyWatcher.current() called before start()');
    return this.policy;
  }

  stop(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  /** One check at a time; a change noticed during a check is looked at right after it. */
  private check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = this.reloadIfChanged().finally(() => {
      this.checking = undefined;
      if (this.checkAgain && this.stopWatching) {
        this.checkAgain = false;
        void this.check();
      }
    });
    return this.checking;
  }

  private async reloadIfChanged(): Promise<void> {
    const signature = await this.fileSignature();
    if (signature === this.signature) return;
    // Remembered even when the new version is broken, so it is reported once, not at every poll.
    this.signature = signature;
    try {
      this.policy = await this.options.load(this.file);
      this.options.onReload('success', this.policy, undefined);
    } catch (error) {
      this.options.onReload('failure', undefined, error);
    }
  }

  /** Changes with any new version of the file, including a symlink now pointing elsewhere. */
  private async fileSignature(): Promise<string> {
    try {
      const info = await stat(this.file);
      return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
    } catch (error) {
      return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
    }
  }
}
