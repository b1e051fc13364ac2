import { appendFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer, type HttpsAnswer, type LogLine } from '../server/child-server.js';
import { metricValue } from '../server/test-app.js';

/**
 * The hardening scenarios run short in `npm test`, so that CI catches a regression, and for
 * SOAK_SECONDS each under `npm run soak`.
 */
export const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 0) || 0;

/** How long a scenario drives its load: `shortMs` in `npm test`, SOAK_SECONDS in a soak. */
export function loadDurationMs(shortMs: number): number {
  return SOAK_SECONDS > 0 ? SOAK_SECONDS * 1000 : shortMs;
}

/** A test's time limit: its own work, plus the load it drives. */
export function timeLimitMs(workMs: number, loadShortMs = 0): number {
  return workMs + loadDurationMs(loadShortMs);
}

/** Where each scenario writes its figures, one JSON object per line, for docs/reliability.md. */
export const FIGURES_FILE = process.env.HARDENING_FIGURES ?? join(tmpdir(), 'mcpserver-webhook-hardening-figures.jsonl');

/** Prints a scenario's figures on one line and keeps them in FIGURES_FILE. */
export function reportFigures(scenario: string, figures: Readonly<Record<string, number | string | boolean>>): void {
  const line = { scenario, soakSeconds: SOAK_SECONDS, at: new Date().toISOString(), ...figures };
  console.log(`[hardening] ${scenario}: ${Object.entries(figures).map(([key, value]) => `${key}=${value}`).join(' ')}`);
  appendFileSync(FIGURES_FILE, `${JSON.stringify(line)}\n`);
}

/**
 * Node options for every server the hardening tests start, e.g. `--max-old-space-size=160` to run
 * them under the heap a 256 MiB container leaves (the chart's example); none by default.
 */
const SERVER_NODE_OPTIONS = process.env.HARDENING_NODE_OPTIONS;

/** How long a server may take to stop on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 25_000;

/** Every connection of the hardening tests goes to the loopback address, never further. */
export const HOST = '127.0.0.1';

export interface HardeningServer {
  readonly child: ChildServer;
  /** The folder with tls.crt, tls.key and ca.crt. */
  readonly certDir: string;
  readonly ca: string;
  /** Keeps its connections open between requests, as the API server does. */
  readonly agent: Agent;
  /** On a kept-alive connection of `agent`. */
  call(options?: CallOptions): Promise<HttpsAnswer>;
  /** On a new connection: sees the certificate in use right now. */
  callFresh(options?: CallOptions): Promise<HttpsAnswer>;
  metrics(): Promise<string>;
  metric(series: string): Promise<number | undefined>;
  /** The server's resident memory in bytes, from /metrics. */
  rss(): Promise<number>;
  /** Not an exit, not a hang: /healthz answers on a new connection. */
  isHealthy(): Promise<boolean>;
  stop(): Promise<number | null>;
}

export type CallOptions = Omit<Parameters<typeof httpsCall>[1], 'ca' | 'host' | 'agent'>;

/**
 * `mcpserver-webhook serve` as a child process on 127.0.0.1 and a free port, with development
 * certificates in a fresh folder, or those in `certDir`.
 */
export async function startHardeningServer(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
  certDir?: string,
): Promise<HardeningServer> {
  const scratch = certDir === undefined ? temporaryDirectory('hardening') : undefined;
  const folder = scratch?.path ?? certDir ?? '';
  const child = await startChildServer(['--host', HOST, '--port', '0', '--cert-dir', folder, ...(scratch ? ['--dev-certs'] : []), ...args], {
    ...(SERVER_NODE_OPTIONS ? { NODE_OPTIONS: SERVER_NODE_OPTIONS } : {}),
    ...env,
  });
  const ca = readText(join(folder, 'ca.crt'));
  const agent = new Agent({ keepAlive: true, maxSockets: 16, ca });
  const call = (options: CallOptions = {}): Promise<HttpsAnswer> => httpsCall(child.port, { ...options, ca, host: HOST, agent });
  const callFresh = (options: CallOptions = {}): Promise<HttpsAnswer> => httpsCall(child.port, { ...options, ca, host: HOST });
  const metrics = async (): Promise<string> => (await callFresh({ path: '/metrics' })).body;
  return {
    child,
    certDir: folder,
    ca,
    agent,
    call,
    callFresh,
    metrics,
    metric: async (series) => metricValue(await metrics(), series),
    rss: async () => metricValue(await metrics(), 'process_resident_memory_bytes') ?? Number.NaN,
    isHealthy: async () => child.process.exitCode === null && (await callFresh({ path: '/healthz' }).then((answer) => answer.status === 200, () => false)),
    stop: async () => {
      agent.destroy();
      // A server that hangs (a test failed) is killed rather than left to burn the CPU.
      const code = await within(STOP_TIMEOUT_MS, child.stop(), 'stopping').catch(() => 'hung' as const);
      if (code === 'hung') child.process.kill('SIGKILL');
      scratch?.remove();
      return code === 'hung' ? child.exited : code;
    },
  };
}

export function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The error code of a failed request (ECONNRESET, ...), or its message. */
export function failureReason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code ?? message;
}

/** Rejects when `promise` takes longer than `ms`: a hung server fails the test instead of stalling it. */
export async function within<T>(ms: number, promise: Promise<T>, what = 'the answer'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `change` (a new file version), and resolves with the server's next `event` log line and how long it took to come. */
export async function nextLogAfter(server: HardeningServer, event: string, change: () => Promise<unknown>): Promise<{ line: LogLine; afterMs: number }> {
  const seen = server.child.logs().length;
  const started = performance.now();
  await change();
  const line = await server.child.waitForLog((candidate) => candidate.event === event, { skip: seen, timeoutMs: 8000 });
  return { line, afterMs: performance.now() - started };
}
