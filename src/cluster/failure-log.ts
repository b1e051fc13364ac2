import type { Logger } from '../telemetry/logger.js';

/**
 * What the continuous audit (or the fleet view) tells the log about its failures: one line when a
 * part of it starts failing for a reason not already reported, and one line when it works again,
 * never one per retry. An unreachable API server fails the watch, the lease and the writes alike
 * with the same message: it is said once.
 */
export class FailureLog {
  /** The message each failing part last reported. */
  private readonly failing = new Map<string, string>();

  constructor(
    private readonly logger: Logger,
    /** Who speaks, in the log lines. */
    private readonly subject = 'continuous audit',
  ) {}

  /** `message` is already fit for the log: a ClusterError's, which names no secret. */
  failed(part: string, message: string): void {
    if (this.failing.get(part) === message) return;
    const alreadySaid = [...this.failing.values()].includes(message);
    this.failing.set(part, message);
    if (alreadySaid) return;
    this.logger.error({ event: 'audit-error', part, error: message }, `${this.subject} (${part}): ${message}; retrying with backoff, admission is not affected`);
  }

  succeeded(part: string): void {
    if (!this.failing.delete(part)) return;
    this.logger.info({ event: 'audit-recovered', part }, `${this.subject} (${part}): working again`);
  }
}
