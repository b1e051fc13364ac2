/**
 * npm run test:e2e: the end-to-end suite against a real kube-apiserver and etcd, found as
 * assets.mjs says. Without them it says in one line what it needs and exits 0, so that machines
 * without the binaries (CI among them) pass over it; binaries named but missing are an error
 * (exit 2). Arguments go to vitest.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findAssets, WHERE } from './assets.mjs';

const assets = findAssets(process.env);
if (assets.found === 'none') {
  console.log(`test:e2e skipped: it needs kube-apiserver and etcd; ${WHERE} npm run test:e2e`);
  process.exit(0);
}
// Named but not there: a mistake to report, not a machine without the binaries to pass over.
if (assets.found === 'missing') {
  console.error(`test:e2e: no executable ${assets.missing.join(' or ')}; ${WHERE} npm run test:e2e`);
  process.exit(2);
}

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...assets.env },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
