/**
 * Client-side rate limiting of writes, as client-go's token bucket (flowcontrol.NewTokenBucketRateLimiter,
 * behind rest.Config's QPS and Burst) limits a controller: up to `burst` requests at once, then
 * `qps` a second on average. The API server's priority and fairness protects the cluster from us;
 * this keeps the audit from spending the share its flow schema gives to every other client of the
 * same service account, and bounds what a first pass over thousands of objects sends.
 */
export interface RateLimit {
  /** Requests a second, on average. */
  readonly qps: number;
  /** Requests that may go at once after a quiet while. */
  readonly burst: number;
}

/**
 * The audit's writes (reports and events) a second, and at once. client-go's defaults (5 and 10)
 * are for a controller that writes now and then; a first pass writes a report per MCPServer, and
 * at this rate 10,000 would take 25 s (on two cores the writes' own CPU holds them to about 130 a
 * second today: docs/performance.md). The API server's priority and fairness still orders them
 * behind the requests that matter more (docs/operations.md tells how to lower them).
 */
export const DEFAULT_WRITE_LIMIT: RateLimit = { qps: 400, burst: 400 };

export class RateLimiter {
  private tokens: number;
  private updatedAt: number;
  /** Requests waiting for a token, first come first served. */
  private readonly waiting: { readonly grant: (granted: boolean) => void; readonly signal: AbortSignal | undefined }[] = [];
  /** Signals listened to: one listener each, however many requests wait on it. */
  private readonly watched = new WeakSet<AbortSignal>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new RangeError(`a rate limit needs qps > 0 and burst >= 1, not qps ${limit.qps} and burst ${limit.burst}`);
    this.tokens = limit.burst;
    this.updatedAt = now();
  }

  /** Resolves when a request may be sent; `signal` gives up waiting (resolving false). */
  take(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    this.refill();
    if (this.waiting.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve(true);
    }
    if (signal && !this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.giveUp(signal), { once: true });
    }
    return new Promise((grant) => {
      this.waiting.push({ grant, signal });
      this.schedule();
    });
  }

  private giveUp(signal: AbortSignal): void {
    for (let index = this.waiting.length - 1; index >= 0; index -= 1) {
      const waiter = this.waiting[index];
      if (waiter?.signal !== signal) continue;
      this.waiting.splice(index, 1);
      waiter.grant(false);
    }
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.limit.qps);
    this.updatedAt = now;
  }

  /** Hands out tokens to the waiting as they accrue. */
  private schedule(): void {
    if (this.timer || this.waiting.length === 0) return;
    this.refill();
    const delayMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.limit.qps) * 1000;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.tokens >= 1 && this.waiting.length > 0) {
        this.tokens -= 1;
        this.waiting.shift()?.grant(true);
      }
      this.schedule();
    }, delayMs);
    // Waiting for a token never keeps the process alive on its own.
    this.timer.unref();
  }
}
