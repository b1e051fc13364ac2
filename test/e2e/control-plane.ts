import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { createClientCertificate } from '../../src/server/dev-certificates.js';
import { request } from './kube-http.js';
import { CURRENT, newAuthority, pemOf, serverPair, type Pair } from '../server/test-certificates.js';
import { freePort, stopProcess, temporaryFolder, track } from './processes.js';

/**
 * A Kubernetes control plane of its own for one test file, as controller-runtime's envtest starts
 * one: etcd and kube-apiserver from the binaries the environment names, on free loopback ports,
 * in a temporary folder, with certificates made here, client-certificate authentication and RBAC.
 * No controller manager and no scheduler: nothing reconciles, which these tests do not need.
 */

/** The binaries, as `test/e2e/run.mjs` resolves them from KUBEBUILDER_ASSETS or TEST_ASSET_*. */
function assets(): { apiServer: string; etcd: string } {
  const apiServer = process.env.TEST_ASSET_KUBE_APISERVER;
  const etcd = process.env.TEST_ASSET_ETCD;
  if (!apiServer || !etcd) {
    throw new Error('TEST_ASSET_KUBE_APISERVER and TEST_ASSET_ETCD are not set: run the end-to-end tests with npm run test:e2e');
  }
  return { apiServer, etcd };
}

/** A user of the API server, known by a client certificate. */
export interface User {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
}

export interface ControlPlane {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** The CA that signed the API server's serving certificate and the client certificates. */
  readonly ca: string;
  /** In the group system:masters: may do anything. */
  readonly admin: User;
  /** A temporary folder that is removed with the control plane, for kubeconfigs and the like. */
  readonly folder: string;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** More kube-apiserver flags, e.g. `--min-request-timeout=5` to have watches end sooner. */
  readonly apiServerFlags?: readonly string[];
}

const STARTUP_TIMEOUT_MS = 90_000;

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const binaries = assets();
  const folder = temporaryFolder('control-plane');
  const path = (name: string): string => join(folder.path, name);
  const authority = await newAuthority('rsa');
  const serving = await serverPair(authority);
  const caPem = authority.certificate.toString();
  writeFileSync(path('ca.crt'), caPem);
  writeFileSync(path('serving.crt'), serving.cert);
  writeFileSync(path('serving.key'), serving.key);
  // Service account tokens (TokenRequest) are signed with this key and checked with its public half.
  const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  writeFileSync(path('service-account.key'), serviceAccountKey.export({ type: 'pkcs1', format: 'pem' }));

  const user = async (name: string, groups: readonly string[] = []): Promise<User> => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const certificate = await createClientCertificate({ commonName: name, organizations: groups }, createPublicKey(key), authority, CURRENT);
    return { name, cert: certificate.toString(), key: pemOf(key) };
  };
  const admin = await user('admin', ['system:masters']);

  const [etcdClientPort, etcdPeerPort, apiServerPort] = [await freePort(), await freePort(), await freePort()];
  const etcdClientUrl = `http://127.0.0.1:${etcdClientPort}`;
  const etcdPeerUrl = `http://127.0.0.1:${etcdPeerPort}`;
  const url = `https://127.0.0.1:${apiServerPort}`;
  const started: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    // The API server first: it would otherwise spend its shutdown retrying a missing etcd.
    for (const child of [...started].reverse()) await stopProcess(child);
    folder.remove();
  };

  try {
    started.push(
      launch(binaries.etcd, path('etcd.log'), [
        '--name=e2e',
        `--data-dir=${path('etcd')}`,
        `--listen-client-urls=${etcdClientUrl}`,
        `--advertise-client-urls=${etcdClientUrl}`,
        `--listen-peer-urls=${etcdPeerUrl}`,
        `--initial-advertise-peer-urls=${etcdPeerUrl}`,
        `--initial-cluster=e2e=${etcdPeerUrl}`,
      ]),
    );
    await until(() => etcdHealthy(etcdClientUrl), started, () => tail(path('etcd.log')), 'etcd did not become healthy');
    started.push(
      launch(binaries.apiServer, path('kube-apiserver.log'), [
        `--etcd-servers=${etcdClientUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiServerPort}`,
        `--cert-dir=${path('certs')}`,
        `--tls-cert-file=${path('serving.crt')}`,
        `--tls-private-key-file=${path('serving.key')}`,
        `--client-ca-file=${path('ca.crt')}`,
        '--authorization-mode=RBAC',
        `--service-account-issuer=${url}`,
        `--service-account-key-file=${path('service-account.key')}`,
        `--service-account-signing-key-file=${path('service-account.key')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // No controller manager makes the service account token Secrets this plugin waits for.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        ...(options.apiServerFlags ?? []),
      ]),
    );
    await until(() => apiServerReady(url, caPem, admin), started, () => tail(path('kube-apiserver.log')), 'kube-apiserver did not become ready');
  } catch (error) {
    await stop();
    throw error;
  }

  return { url, ca: caPem, admin, folder: folder.path, stop };
}

/** Starts a binary with its output in a log file (a pipe nobody reads would fill up and stall it). */
function launch(binary: string, logFile: string, args: readonly string[]): ChildProcess {
  const log = openSync(logFile, 'a');
  return track(spawn(binary, args, { stdio: ['ignore', log, log] }));
}

async function until(probe: () => Promise<boolean>, processes: readonly ChildProcess[], log: () => string, failure: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const exited = processes.find((child) => child.exitCode !== null || child.signalCode !== null);
    if (exited) throw new Error(`${failure}: ${exited.spawnfile} exited (${exited.exitCode ?? exited.signalCode})\n${log()}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`${failure} within ${STARTUP_TIMEOUT_MS / 1000} s\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function etcdHealthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    httpGet(`${clientUrl}/health`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  });
}

async function apiServerReady(url: string, ca: string, admin: Pair): Promise<boolean> {
  try {
    return (await request({ url, ca, user: admin }, 'GET', '/readyz')).status === 200;
  } catch {
    return false;
  }
}

function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
