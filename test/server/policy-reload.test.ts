import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { eventually, httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer } from './child-server.js';
import { metricValue } from './test-app.js';

const folder = temporaryDirectory('policy');
const certDir = join(folder.path, 'certs');
/** Laid out as the kubelet lays out a ConfigMap volume: files behind a `..data` symlink swapped in one step. */
const volume = join(folder.path, 'policy');
const policyFile = join(volume, 'policy.yaml');
let version = 0;
let server: ChildServer;
let ca: string;

function publishPolicy(text: string): void {
  const revision = join(volume, `..revision-${++version}`);
  mkdirSync(revision, { recursive: true });
  writeFileSync(join(revision, 'policy.yaml'), text);
  symlinkSync(revision, join(volume, '..data_tmp'));
  renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
}

beforeAll(async () => {
  publishPolicy('rules:\n  plaintext-url: deny\n');
  symlinkSync(join('..data', 'policy.yaml'), policyFile);
  server = await startChildServer(['--dev-certs', '--port', '0', '--metrics-port', '0', '--cert-dir', certDir], { POLICY_FILE: policyFile });
  ca = readText(join(certDir, 'ca.crt'));
});

afterAll(async () => {
  await server.stop();
  folder.remove();
});

/** An in-cluster server over plain http: the built-in policy warns, the test policy denies. */
const review = JSON.stringify(admissionReview(readExample('in-cluster-service.yaml')));
const allowed = async (): Promise<boolean> => JSON.parse((await httpsCall(server.port, { ca, body: review })).body).response.allowed;

async function plainHttp(path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://localhost:${server.metricsPort}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('policy file', () => {
  it('is loaded at start from POLICY_FILE', async () => {
    expect(server.logs().find((line) => line.event === 'listening')?.policy).toBe(policyFile);
    expect(await allowed()).toBe(false);
  });

  it('is reloaded when the ConfigMap volume changes, and counted', async () => {
    publishPolicy('rules:\n  plaintext-url: warn\n');
    await eventually(async () => ((await allowed()) ? true : undefined), 8000);
    await server.waitForLog((line) => line.event === 'policy-reload' && line.result === 'success');
    expect(metricValue((await plainHttp('/metrics')).body, 'mcpserver_webhook_policy_reloads_total{result="success"}')).toBe(1);
  });

  it('refuses a broken new version: the old one stays in force, the error is logged and counted, readiness holds', async () => {
    const seen = server.logs().length;
    publishPolicy('rules:\n  plaintext-url: sometimes\n');
    const refused = await server.waitForLog((line) => line.event === 'policy-reload', { timeoutMs: 8000, skip: seen });
    expect(refused).toMatchObject({ level: 'error', result: 'failure' });
    // The engine's message: the file, the line, and what is wrong there.
    expect((refused.error as { message: string }).message).toMatch(/^.*policy\.yaml:2: .*plaintext-url.*must be/);
    expect(await allowed()).toBe(true);
    expect(metricValue((await plainHttp('/metrics')).body, 'mcpserver_webhook_policy_reloads_total{result="failure"}')).toBe(1);
    expect((await httpsCall(server.port, { ca, path: '/readyz' })).status).toBe(200);
  });
});

describe('--metrics-port', () => {
  it('serves metrics, health and readiness over plain HTTP, and no admission reviews', async () => {
    expect((await plainHttp('/healthz')).body).toBe('ok\n');
    expect((await plainHttp('/readyz')).status).toBe(200);
    expect((await plainHttp('/metrics')).body).toContain('mcpserver_webhook_in_flight_requests');
    const res = await fetch(`http://localhost:${server.metricsPort}/validate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: review });
    expect(res.status).toBe(404);
  });
});
