import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/cluster/rate-limiter.js';

describe('RateLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** How many of `takes` have been granted, after letting the timers run for `ms`. */
  async function grantedAfter(takes: readonly Promise<boolean>[], ms: number): Promise<number> {
    let granted = 0;
    for (const take of takes) void take.then((ok) => (granted += ok ? 1 : 0));
    await vi.advanceTimersByTimeAsync(ms);
    return granted;
  }

  it('lets a burst through at once, then the rate, as client-go token bucket does', async () => {
    const limiter = new RateLimiter({ qps: 10, burst: 3 }, () => Date.now());
    const takes = Array.from({ length: 8 }, () => limiter.take());
    expect(await grantedAfter(takes, 0)).toBe(3);
    // 10 a second: one more every 100 ms.
    expect(await grantedAfter([], 0)).toBe(0);
    const after250 = await grantedAfter(takes, 250);
    expect(after250).toBe(5);
    expect(await grantedAfter(takes, 300)).toBe(8);
  });

  it('refills up to the burst after a quiet while, never more', async () => {
    const limiter = new RateLimiter({ qps: 100, burst: 2 }, () => Date.now());
    await grantedAfter([limiter.take(), limiter.take()], 0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await grantedAfter([limiter.take(), limiter.take(), limiter.take()], 0)).toBe(2);
  });

  it('gives up a wait when told to stop', async () => {
    const limiter = new RateLimiter({ qps: 1, burst: 1 }, () => Date.now());
    await limiter.take();
    const stopping = new AbortController();
    const waiting = limiter.take(stopping.signal);
    stopping.abort();
    await expect(waiting).resolves.toBe(false);
    await expect(limiter.take(stopping.signal)).resolves.toBe(false);
  });

  it('refuses a limit that would let nothing through', () => {
    expect(() => new RateLimiter({ qps: 0, burst: 1 })).toThrow(/qps > 0/);
    expect(() => new RateLimiter({ qps: 1, burst: 0 })).toThrow(/burst >= 1/);
  });
});
