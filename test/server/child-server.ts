import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';

const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/** Which build runs: this checkout's by default, or another's (a benchmark's baseline), with node flags before the script. */
export interface BuildOptions {
  /** A checkout of the project, built (its dist/); default this one. */
  readonly root?: string;
  /** Options for node itself, such as those of the container image's ENTRYPOINT. */
  readonly nodeArgs?: readonly string[];
}

export type LogLine = Record<string, unknown>;

/** `mcpserver-webhook serve` in a child process, as `npm start` runs it (from the built dist/). */
export interface ChildServer {
  readonly process: ChildProcess;
  /** The HTTPS port from the listening line. */
  readonly port: number;
  readonly metricsPort: number | undefined;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  logs(): LogLine[];
  /** Resolves with the first log line that matches, among those after the first `skip` lines. */
  waitForLog(matches: (line: LogLine) => boolean, options?: { timeoutMs?: number; skip?: number }): Promise<LogLine>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** SIGTERM and wait; safe to call twice. */
  stop(): Promise<number | null>;
}

export function temporaryDirectory(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `mcpserver-webhook-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs the CLI with `args`; resolves once it has written its listening line. */
export async function startChildServer(args: readonly string[], env: NodeJS.ProcessEnv = {}, build: BuildOptions = {}): Promise<ChildServer> {
  const child = runChild(['serve', ...args], env, build);
  try {
    const listening = await child.waitForLog((line) => line.event === 'listening', { timeoutMs: 20_000 });
    return { ...child, port: Number(listening.port), metricsPort: listening.metricsPort === undefined ? undefined : Number(listening.metricsPort) };
  } catch (error) {
    await child.stop();
    throw new Error(`${(error as Error).message}\nstdout:\n${child.stdout()}\nstderr:\n${child.stderr()}`);
  }
}

/** Runs the CLI with `args` without waiting for anything. */
export function runChild(args: readonly string[], env: NodeJS.ProcessEnv = {}, { root = REPOSITORY, nodeArgs = [] }: BuildOptions = {}): Omit<ChildServer, 'port' | 'metricsPort'> {
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'mcpserver-webhook.js'), ...args], {
    cwd: root,
    // A clean environment: only what the test gives, and what Node needs to run.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const wake of waiters) wake();
  });

  const logs = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  const waitForLog = (matches: (line: LogLine) => boolean, { timeoutMs = 10_000, skip = 0 } = {}): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = logs().slice(skip).find(matches);
        if (found) return done(() => resolve(found));
        if (hasExited) done(() => reject(new Error('the server exited before writing the expected log line')));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no matching log line within ${timeoutMs} ms`))), timeoutMs);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    waitForLog,
    exited,
    stop: async () => {
      if (!hasExited) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface HttpsAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
}

/**
 * One request verified against `ca`: on a new connection (so each sees the certificate in use
 * right now), or on a connection of `agent` (kept alive, as the API server keeps them).
 */
export function httpsCall(
  port: number,
  options: { ca: string | Buffer; method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string> } & Pick<
    RequestOptions,
    'cert' | 'key' | 'maxVersion' | 'host' | 'agent' | 'servername'
  >,
): Promise<HttpsAnswer> {
  const { body, path = '/validate', method = body === undefined ? 'GET' : 'POST', headers = {}, host = 'localhost', agent = false, ...tls } = options;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host,
        port,
        method,
        path,
        agent,
        headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        ...tls,
      },
      (res) => {
        const peer: PeerCertificate = (res.socket as TLSSocket).getPeerCertificate();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, fingerprint: peer.fingerprint256 }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
