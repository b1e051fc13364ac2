export interface BackoffOptions {
  /** The ceiling of the first wait. */
  readonly initialMs: number;
  /** The ceiling of every wait after the ceilings have doubled up to it. */
  readonly maxMs: number;
}

/** client-node's ListWatch waits 1 s after a first failure and at most 30 s. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

/**
 * Capped exponential backoff with jitter: the n-th wait after a failure is between half and all
 * of min(max, initial · 2^n). The jitter spreads the retries of replicas that lost the API server
 * at the same moment, so that they do not all come back in the same instant.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** How long to wait before the next try; each call doubles the ceiling of the next. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.attempt);
    // Past the cap the exponent no longer matters; bounded so it never overflows.
    if (ceiling < this.options.maxMs) this.attempt += 1;
    return ceiling / 2 + (this.random() * ceiling) / 2;
  }

  /** After a success: the next failure waits the shortest time again. */
  reset(): void {
    this.attempt = 0;
  }
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
