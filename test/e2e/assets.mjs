/**
 * Where the end-to-end binaries are, found the way controller-runtime's envtest finds them:
 * TEST_ASSET_KUBE_APISERVER and TEST_ASSET_ETCD, else the folder KUBEBUILDER_ASSETS. Shared by
 * `npm run test:e2e` (run.mjs) and `npm run bench:scale`.
 */
import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';

const WHERE = "get them with controller-runtime's setup-envtest (setup-envtest use 1.30 -p path) and run KUBEBUILDER_ASSETS=<that folder>";

/**
 * The binaries' environment for `npm run <script>`; without them, one line and exit 0, so that
 * machines without them (CI among them) pass over it; named but missing, an error (exit 2).
 * @param {string} script
 * @returns {{ TEST_ASSET_KUBE_APISERVER: string, TEST_ASSET_ETCD: string }}
 */
export function assetsOrExit(script) {
  const assets = findAssets(process.env);
  if (assets.found === 'none') {
    console.log(`${script} skipped: it needs kube-apiserver and etcd; ${WHERE} npm run ${script}`);
    process.exit(0);
  }
  if (assets.found === 'missing') {
    console.error(`${script}: no executable ${assets.missing.join(' or ')}; ${WHERE} npm run ${script}`);
    process.exit(2);
  }
  return assets.env;
}

/**
 * `none` when nothing names the binaries (a machine without them: pass over it), `missing` with
 * the files named but not executable (a mistake to report), else the two paths, absolute, as
 * the environment of what runs against them.
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ found: 'none' } | { found: 'missing', missing: string[] } | { found: 'ok', env: { TEST_ASSET_KUBE_APISERVER: string, TEST_ASSET_ETCD: string } }}
 */
function findAssets(env) {
  const folder = env.KUBEBUILDER_ASSETS;
  const assets = {
    TEST_ASSET_KUBE_APISERVER: env.TEST_ASSET_KUBE_APISERVER || (folder ? join(folder, 'kube-apiserver') : undefined),
    TEST_ASSET_ETCD: env.TEST_ASSET_ETCD || (folder ? join(folder, 'etcd') : undefined),
  };
  if (!assets.TEST_ASSET_KUBE_APISERVER && !assets.TEST_ASSET_ETCD) return { found: 'none' };
  const missing = Object.entries(assets)
    .filter(([, file]) => !file || !executable(file))
    .map(([name, file]) => file ?? name);
  if (missing.length > 0 || !assets.TEST_ASSET_KUBE_APISERVER || !assets.TEST_ASSET_ETCD) return { found: 'missing', missing };
  return { found: 'ok', env: { TEST_ASSET_KUBE_APISERVER: resolve(assets.TEST_ASSET_KUBE_APISERVER), TEST_ASSET_ETCD: resolve(assets.TEST_ASSET_ETCD) } };
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
