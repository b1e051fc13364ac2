/**
 * npm run test:e2e: the end-to-end suite against a real kube-apiserver and etcd, found the way
 * controller-runtime's envtest finds them: TEST_ASSET_KUBE_APISERVER and TEST_ASSET_ETCD, else
 * the folder KUBEBUILDER_ASSETS. Without them it says in one line what it needs and exits 0, so
 * that machines without the binaries (CI among them) pass over it; binaries named but missing are
 * an error (exit 2). Arguments go to vitest.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const { env } = process;
const folder = env.KUBEBUILDER_ASSETS;
const assets = {
  TEST_ASSET_KUBE_APISERVER: env.TEST_ASSET_KUBE_APISERVER || (folder ? join(folder, 'kube-apiserver') : undefined),
  TEST_ASSET_ETCD: env.TEST_ASSET_ETCD || (folder ? join(folder, 'etcd') : undefined),
};

const executable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const where = "get them with controller-runtime's setup-envtest (setup-envtest use 1.30 -p path) and run KUBEBUILDER_ASSETS=<that folder> npm run test:e2e";
if (!assets.TEST_ASSET_KUBE_APISERVER && !assets.TEST_ASSET_ETCD) {
  console.log(`test:e2e skipped: it needs kube-apiserver and etcd; ${where}`);
  process.exit(0);
}
// Named but not there: a mistake to report, not a machine without the binaries to pass over.
const missing = Object.entries(assets).filter(([, file]) => !file || !executable(file));
if (missing.length > 0) {
  console.error(`test:e2e: no executable ${missing.map(([name, file]) => file ?? name).join(' or ')}; ${where}`);
  process.exit(2);
}

const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...env, TEST_ASSET_KUBE_APISERVER: resolve(assets.TEST_ASSET_KUBE_APISERVER), TEST_ASSET_ETCD: resolve(assets.TEST_ASSET_ETCD) },
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
