/**
 * npm run test:e2e: the end-to-end suite against a real kube-apiserver and etcd, found as
 * assets.mjs says. Without them it says in one line what it needs and exits 0, so that machines
 * without the binaries (CI among them) pass over it; binaries named but missing are an error
 * (exit 2). Arguments go to vitest.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { assetsOrExit } from './assets.mjs';

const assets = assetsOrExit('test:e2e');

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...assets },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
