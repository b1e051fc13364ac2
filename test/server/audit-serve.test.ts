import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { mcpServer } from '../fixtures.js';
import { fixtureCluster, until } from '../audit/audit-harness.js';
import { startFakeApiServer, type FakeApiServer } from '../cluster/fake-api-server.js';
import type { FakeCluster } from '../cluster/fake-cluster.js';
import { httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer } from './child-server.js';
import { metricValue } from './test-app.js';

/** `serve --audit` in a child process, as a pod runs it, against the fake API server: the wiring end to end. */
const folder = temporaryDirectory('audit-serve');
const certDir = join(folder.path, 'certs');
const policyFile = join(folder.path, 'policy.yaml');
let cluster: FakeCluster;
let api: FakeApiServer;
let server: ChildServer;
let ca: string;

beforeAll(async () => {
  writeFileSync(policyFile, 'namespaces:\n  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}\n    rules: {plaintext-url: deny}\n');
  cluster = fixtureCluster();
  api = await startFakeApiServer(cluster.answer);
  server = await startChildServer(
    ['--dev-certs', '--port', '0', '--metrics-port', '0', '--cert-dir', certDir, '--policy', policyFile, '--audit', '--kubeconfig', api.kubeconfig, '--shutdown-grace', '5'],
    { POD_NAME: 'mcpserver-webhook-7d9f8b6c5-x2k4q', POD_NAMESPACE: 'muster' },
  );
  ca = readText(join(certDir, 'ca.crt'));
});

afterAll(async () => {
  await server.stop();
  await api.close();
  folder.remove();
});

async function metrics(): Promise<string> {
  return (await fetch(`http://localhost:${server.metricsPort}/metrics`)).text();
}

/** The result of `rule` in the report of the MCPServer `namespace/name`. */
const reportResult = (namespace: string, name: string, rule: string): string | undefined => {
  type Report = { scope: { namespace: string; name: string }; results: { rule: string; result: string }[] };
  const reports = [...cluster.policyReports.values()] as unknown as Report[];
  const report = reports.find((candidate) => candidate.scope.namespace === namespace && candidate.scope.name === name);
  return report?.results.find((result) => result.rule === rule)?.result;
};

describe('serve --audit', () => {
  it('takes the Lease in POD_NAMESPACE as POD_NAME, and writes PolicyReports and Events', async () => {
    await until(() => cluster.policyReports.size === 4 && cluster.events.size === 2, 'the reports and events', 10_000);
    expect(cluster.leases.get('muster/mcpserver-webhook-audit')?.spec).toMatchObject({ holderIdentity: 'mcpserver-webhook-7d9f8b6c5-x2k4q', leaseDurationSeconds: 15 });
    // The tier policy denies plain http in prod only: the watch of namespace labels is in use.
    expect(reportResult('prod', 'plain-http', 'plaintext-url')).toBe('fail');
    expect(reportResult('dev', 'plain-http', 'plaintext-url')).toBe('warn');
    expect([...cluster.events.values()].map((event) => event.reportingInstance)).toEqual(['mcpserver-webhook-7d9f8b6c5-x2k4q', 'mcpserver-webhook-7d9f8b6c5-x2k4q']);
    const text = await metrics();
    expect(metricValue(text, 'mcpserver_webhook_audit_leader')).toBe(1);
    expect(metricValue(text, 'mcpserver_webhook_audit_violations{namespace="prod",rule="plaintext-url"}')).toBe(1);
    expect(server.logs().find((line) => line.event === 'audit-started')).toMatchObject({ identity: 'mcpserver-webhook-7d9f8b6c5-x2k4q', lease: 'muster/mcpserver-webhook-audit' });
  });

  it('admits with the namespace labels, and answers verdicts over HTTPS', async () => {
    const vendor = (namespace: string) => mcpServer({ type: 'streamable-http', url: 'http://tools.vendor.example.com/mcp' }, { name: 'vendor', namespace });
    const admitted = async (namespace: string): Promise<boolean> => JSON.parse((await httpsCall(server.port, { ca, body: JSON.stringify(admissionReview(vendor(namespace))) })).body).response.allowed;
    expect(await admitted('prod')).toBe(false);
    expect(await admitted('dev')).toBe(true);
    const verdict = await httpsCall(server.port, { ca, path: '/v1/verdict', body: JSON.stringify(vendor('prod')) });
    expect(verdict.status).toBe(200);
    expect(JSON.parse(verdict.body)).toMatchObject({ allowed: false, denials: [{ rule: 'plaintext-url', path: 'spec.url' }] });
  });

  it('judges everything again when the policy file changes', async () => {
    writeFileSync(policyFile, 'rules: {plaintext-url: deny}\n');
    await until(() => reportResult('dev', 'plain-http', 'plaintext-url') === 'fail', 'dev to fail', 10_000);
    await until(() => cluster.events.size === 3, 'the event of dev/plain-http');
    expect(metricValue(await metrics(), 'mcpserver_webhook_audit_cycles_total{trigger="policy-reload"}')).toBe(1);
  });

  it('releases the Lease when it stops', async () => {
    expect(await server.stop()).toBe(0);
    expect(cluster.leases.get('muster/mcpserver-webhook-audit')?.spec).toMatchObject({ holderIdentity: '' });
  });
});
