import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicyFile } from '../../src/cli/policy-file.js';
import type { Policy } from '../../src/engine/index.js';
import { PolicyWatcher } from '../../src/server/policy-watcher.js';
import { eventually, temporaryDirectory } from './child-server.js';

const folders: { remove(): void }[] = [];
afterEach(() => folders.splice(0).forEach((folder) => folder.remove()));

/** A fresh folder, removed after the test. */
function scratchFolder(prefix: string): string {
  const folder = temporaryDirectory(prefix);
  folders.push(folder);
  return folder.path;
}

/** A policy file with `text` in a fresh folder. */
function policyFile(text: string): string {
  const file = join(scratchFolder('watch'), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

interface Report {
  readonly result: string;
  readonly policy: Policy | undefined;
  readonly error: unknown;
}

function watcherFor(file: string, pollIntervalMs: number): { watcher: PolicyWatcher; reports: Report[] } {
  const reports: Report[] = [];
  const watcher = new PolicyWatcher(file, { load: loadPolicyFile, pollIntervalMs, onReload: (result, policy, error) => reports.push({ result, policy, error }) });
  return { watcher, reports };
}

const action = (policy: Policy): unknown => policy.actions('admission').get('plaintext-url');

describe('PolicyWatcher', () => {
  it('swaps in a changed file, and refuses a broken one once, keeping the last good policy', async () => {
    const file = policyFile('rules:\n  plaintext-url: deny\n');
    const { watcher, reports } = watcherFor(file, 50);
    try {
      expect(action(await watcher.start())).toBe('deny');
      writeFileSync(file, 'rules:\n  plaintext-url: audit\n');
      await eventually(async () => (reports.length === 1 ? true : undefined), 5000, 20);
      expect(reports[0]?.result).toBe('success');
      expect(action(watcher.current())).toBe('audit');

      writeFileSync(file, 'rules:\n  plaintext-url: [deny\n');
      await eventually(async () => (reports.length === 2 ? true : undefined), 5000, 20);
      expect(reports[1]).toMatchObject({ result: 'failure', policy: undefined });
      expect(String((reports[1]?.error as Error).message)).toMatch(/policy\.yaml:\d+:/);
      expect(action(watcher.current())).toBe('audit');
      // Several polls later, the same broken file has not been reported again.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(reports).toHaveLength(2);
    } finally {
      watcher.stop();
    }
  });

  it('notices by polling a change that no event in the watched folder announces', async () => {
    const target = policyFile('rules:\n  plaintext-url: deny\n');
    const file = join(scratchFolder('watched'), 'policy.yaml');
    symlinkSync(target, file);
    const { watcher, reports } = watcherFor(file, 100);
    try {
      await watcher.start();
      writeFileSync(target, 'rules:\n  plaintext-url: warn\n');
      await eventually(async () => (reports.length > 0 ? true : undefined), 5000, 20);
      expect(action(watcher.current())).toBe('warn');
    } finally {
      watcher.stop();
    }
  });

  it('reports nothing after stop()', async () => {
    const file = policyFile('rules: {}\n');
    const { watcher, reports } = watcherFor(file, 20);
    await watcher.start();
    watcher.stop();
    writeFileSync(file, 'rules:\n  plaintext-url: deny\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reports).toEqual([]);
  });
});
