import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { temporaryDirectory, type LogLine } from './child-server.js';

/**
 * `npm start` as a user runs it (the real npm, the package's start script), stopped the ways a
 * user, an IDE or a process manager stops it: a signal to npm's process, or npm killed outright.
 * The prestart build is skipped (--ignore-scripts): `npm test` has just built dist/.
 */
const REPOSITORY = new URL('../../', import.meta.url).pathname;

interface NpmStart {
  readonly npm: ChildProcess;
  readonly listening: LogLine;
  logs(): LogLine[];
  waitFor(event: string, timeoutMs?: number): Promise<LogLine>;
}

const started: NpmStart[] = [];
const certs = temporaryDirectory('npm-start');
afterAll(() => certs.remove());

afterEach(() => {
  // A server left behind by a failed test would hold its port: end it by its own process ID.
  for (const run of started.splice(0)) {
    const pid = Number(run.listening.pid);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

async function npmStart(): Promise<NpmStart> {
  const [command, prefix] = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
  const npm = spawn(command, [...prefix, 'start', '--ignore-scripts', '--', '--port', '0', '--cert-dir', certs.path], {
    cwd: REPOSITORY,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  npm.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const logs = (): LogLine[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  const waitFor = async (event: string, timeoutMs = 15_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = logs().find((line) => line.event === event);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no "${event}" log line within ${timeoutMs} ms; npm printed:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const run = { npm, listening: await waitFor('listening', 30_000), logs, waitFor };
  started.push(run);
  return run;
}

/** Whether anything accepts connections on the port of 127.0.0.1. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start', () => {
  it('listens on loopback only, and says so', async () => {
    const { listening } = await npmStart();
    expect(listening).toMatchObject({ url: `https://127.0.0.1:${listening.port}/validate`, interfaces: 'loopback' });
    expect(String(listening.msg)).toContain('loopback only: reachable from this machine alone');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('stops the server and frees the port when npm gets %s', async (signal) => {
    const run = await npmStart();
    const port = Number(run.listening.port);
    expect(await portOpen(port)).toBe(true);
    run.npm.kill(signal);
    expect(await run.waitFor('stopped')).toBeDefined();
    expect(run.logs().find((line) => line.event === 'shutdown')).toMatchObject({ signal });
    expect(await portOpen(port)).toBe(false);
  });

  it('stops the server and frees the port when npm is killed outright, which passes nothing on', async () => {
    const run = await npmStart();
    const port = Number(run.listening.port);
    run.npm.kill('SIGKILL');
    expect(await run.waitFor('stopped')).toBeDefined();
    expect(run.logs().find((line) => line.event === 'shutdown')).toMatchObject({ cause: 'parent-exited' });
    expect(await portOpen(port)).toBe(false);
  });
});
