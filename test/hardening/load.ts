import { failureReason } from './harness.js';

export interface LoadOptions {
  /**
   * Sends one request and checks its answer: resolves with undefined when it is right, with what
   * is wrong otherwise; a rejection (a reset connection, ...) counts as a failure too.
   */
  readonly send: () => Promise<string | undefined>;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Stops by itself after this long, whatever happens: load is always bounded. */
  readonly maxDurationMs: number;
}

export interface LoadResult {
  readonly sent: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Each distinct failure once, with how often it happened. */
  readonly failures: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
}

export interface RunningLoad {
  /** Requests answered so far, right or wrong. */
  readonly answered: () => number;
  /** Lets the requests in flight finish, sends no more, and resolves with the figures. */
  stop(): Promise<LoadResult>;
}

/** `concurrency` loops, each sending one request after the other until stopped. */
export function startLoad({ send, concurrency, maxDurationMs }: LoadOptions): RunningLoad {
  const started = performance.now();
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let sent = 0;
  let failed = 0;
  let running = true;
  const deadline = setTimeout(() => (running = false), maxDurationMs);
  const fail = (reason: string): void => {
    failed += 1;
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const loop = async (): Promise<void> => {
    while (running) {
      sent += 1;
      const at = performance.now();
      try {
        const problem = await send();
        if (problem !== undefined) fail(problem);
      } catch (error) {
        fail(failureReason(error));
      }
      latencies.push(performance.now() - at);
    }
  };
  const loops = Promise.all(Array.from({ length: concurrency }, loop));
  return {
    answered: () => latencies.length,
    stop: async () => {
      running = false;
      await loops;
      clearTimeout(deadline);
      const sorted = latencies.sort((a, b) => a - b);
      const at = (fraction: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0);
      return {
        sent,
        succeeded: sent - failed,
        failed,
        failures,
        durationMs: Math.round(performance.now() - started),
        latencyP50Ms: at(0.5),
        latencyP99Ms: at(0.99),
        latencyMaxMs: Math.round(sorted.at(-1) ?? 0),
      };
    },
  };
}

/** Drives load for `durationMs` (bounded by `maxDurationMs` all the same) and resolves with the figures. */
export async function runLoad(options: Omit<LoadOptions, 'maxDurationMs'>, durationMs: number): Promise<LoadResult> {
  const load = startLoad({ ...options, maxDurationMs: durationMs });
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  return load.stop();
}
