import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Everything an end-to-end file starts outside its own process: etcd, kube-apiserver, webhook
 * servers, and the temporary folders they use. Each is stopped or removed by its owner in
 * afterAll; what is still here when the test process ends (a failed start, an interrupted run)
 * is killed and removed on the way out, so no run leaves a control plane behind.
 */
const children = new Set<ChildProcess>();
const folders = new Set<string>();
let handlersInstalled = false;

function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  folders.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', cleanUp);
  // A test process with an IPC channel (vitest's forks) whose parent is gone, interrupted or
  // killed, would otherwise go on running the file with nobody to report to.
  if (process.connected) {
    process.once('disconnect', () => {
      cleanUp();
      process.exit(1);
    });
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** Kills `child` when the test process ends, unless it has exited by then. */
export function track(child: ChildProcess): ChildProcess {
  installHandlers();
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A new temporary folder, removed by `remove()` or, at the latest, when the test process ends. */
export function temporaryFolder(prefix: string): { readonly path: string; remove(): void } {
  installHandlers();
  const path = mkdtempSync(join(tmpdir(), `mcpserver-webhook-e2e-${prefix}-`));
  folders.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      folders.delete(path);
    },
  };
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it has. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A TCP port on the loopback address that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
