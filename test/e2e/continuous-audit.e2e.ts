import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEASE_NAME } from '../../src/audit/continuous-audit.js';
import { EVENT_REASON, eventMessage } from '../../src/audit/events.js';
import { readExample } from '../fixtures.js';
import { eventually, type ChildServer } from '../server/child-server.js';
import { copyExamples, createExamples, get as getObject, grantChartAuditRbac, judged as judgedIn, metric, reportsIn, untilReportsAreCurrent as reportsAreCurrent } from './audit-setup.js';
import { adminClients, createNamespace, createObject, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath, POLICY_REPORT_CRD, serviceAccount, writeKubeconfig } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { request } from './kube-http.js';
import { temporaryFolder } from './processes.js';
import { startWebhook } from './webhook.js';

/**
 * `serve --audit`, two replicas as the chart runs them, against a real API server with Kyverno's
 * PolicyReport CRD, as the service account the chart's RBAC (templates/rbac.yaml) binds: one
 * replica holds the Lease and writes a PolicyReport per namespace and a PolicyViolation Event per
 * denied MCPServer, with what the project's code works out for the stored objects; changes are
 * judged again; the other replica takes over when the leader stops. The API server ends watches
 * every few seconds here (--min-request-timeout), so the watches are resumed many times.
 */

const RELEASE_NAMESPACE = 'mcpserver-webhook';
const NAMESPACES = ['muster', 'payments'];
const REPLICAS = ['replica-a', 'replica-b'];

let plane: ControlPlane;
const replicas = new Map<string, ChildServer>();
const folders = REPLICAS.map((name) => temporaryFolder(name));
let kubeconfig: string;

beforeAll(async () => {
  plane = await startControlPlane({ apiServerFlags: ['--min-request-timeout=5'] });
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await installCrd(plane, POLICY_REPORT_CRD);
  for (const namespace of [...NAMESPACES, RELEASE_NAMESPACE]) await createNamespace(clients, namespace);
  await createExamples(plane, 'muster');
  await copyExamples(plane, 'payments', ['invalid/plaintext-url.yaml', 'invalid/header-syntax.yaml', 'atlassian.yaml']);
  await grantChartAuditRbac(plane, RELEASE_NAMESPACE, 'mcpserver-webhook');
  kubeconfig = writeKubeconfig(plane, await serviceAccount(clients, RELEASE_NAMESPACE, 'mcpserver-webhook'));
  for (const [index, name] of REPLICAS.entries()) {
    const args = ['--audit', '--kubeconfig', kubeconfig, '--audit-namespace', RELEASE_NAMESPACE, '--metrics-port', '0'];
    replicas.set(name, await startWebhook((folders[index] as { path: string }).path, { args, env: { POD_NAME: name } }));
  }
});

afterAll(async () => {
  for (const replica of replicas.values()) await replica.stop();
  await plane?.stop();
  for (const folder of folders) folder.remove();
});

const get = (path: string): Promise<any> => getObject(plane, path);
const judged = (namespace: string) => judgedIn(plane, namespace);
const untilReportsAreCurrent = (namespace: string): Promise<any[]> => reportsAreCurrent(plane, namespace);
const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${RELEASE_NAMESPACE}/leases/${LEASE_NAME}`;

async function holder(): Promise<string | undefined> {
  return (await get(leasePath))?.spec?.holderIdentity || undefined;
}

async function violationEvents(namespace: string): Promise<any[]> {
  return ((await get(`/api/v1/namespaces/${namespace}/events`)).items as any[]).filter((event) => event.reason === EVENT_REASON);
}

describe('two replicas with --audit', () => {
  it('agree on one leader, which holds the Lease', async () => {
    const leader = await eventually(holder, 30_000);
    expect(REPLICAS).toContain(leader);
    const lease = await get(leasePath);
    expect(lease.spec).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 15 });
    const leaders = REPLICAS.filter((name) => replicas.get(name)?.logs().some((line) => line.event === 'audit-leader' && line.leader === true));
    expect(leaders).toEqual([leader]);
  });

  it('write one PolicyReport per MCPServer, owned by it, which the API server stores as written', async () => {
    for (const namespace of NAMESPACES) {
      // Field for field, as the project's code makes them: the CRD's schema pruned nothing and changed nothing.
      const reports = await untilReportsAreCurrent(namespace);
      const objects = await judged(namespace);
      expect(reports.map((report) => report.scope.uid).sort()).toEqual(objects.map(({ object }) => object.metadata.uid).sort());
      for (const report of reports) {
        expect(report.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'mcpserver-webhook' });
        expect(report.metadata.ownerReferences).toEqual([{ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', name: report.scope.name, uid: report.scope.uid }]);
      }
      expect(reports.some((report) => report.summary.fail > 0)).toBe(true);
    }
  });

  it('do not write a report again while nothing changes, through several ended watches', async () => {
    const versions = async (): Promise<string[]> => (await Promise.all(NAMESPACES.map((namespace) => reportsIn(plane, namespace)))).flat().map((report) => `${report.metadata.name} ${report.metadata.resourceVersion}`).sort();
    for (const namespace of NAMESPACES) await untilReportsAreCurrent(namespace);
    const before = await versions();
    // Watches end every 5 to 10 s here: wait for the leader's to end and resume at least once.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(await versions()).toEqual(before);
    const leader = replicas.get((await holder()) as string);
    expect(await metric(leader?.metricsPort, 'mcpserver_webhook_audit_watch_restarts_total{resource="mcpservers",reason="closed"}')).toBeGreaterThan(0);
  });

  it('raise a PolicyViolation Event on each denied MCPServer, with the denials as the webhook words them', async () => {
    const leader = await holder();
    for (const namespace of NAMESPACES) {
      const denied = (await judged(namespace)).filter(({ verdict }) => !verdict.allowed);
      expect(denied.length, namespace).toBeGreaterThan(0);
      const events = await eventually(async () => {
        const found = await violationEvents(namespace);
        return found.length >= denied.length ? found : undefined;
      });
      expect(events.map((event) => event.involvedObject.uid).sort()).toEqual(denied.map(({ object }) => object.metadata.uid).sort());
      for (const { object, verdict } of denied) {
        const event = events.find((candidate) => candidate.involvedObject.uid === object.metadata.uid);
        expect(event, object.metadata.name).toMatchObject({
          type: 'Warning',
          message: eventMessage(verdict.denials),
          involvedObject: { kind: 'MCPServer', name: object.metadata.name, namespace },
          source: { component: 'mcpserver-webhook' },
          reportingComponent: 'mcpserver-webhook',
          reportingInstance: leader,
          count: 1,
        });
      }
    }
  });

  it('judge an object again when it changes: its report result and a new Event', async () => {
    const path = mcpServerPath('payments', 'atlassian');
    const patched = await request(endpoint(plane), 'PATCH', path, {
      body: { spec: { headers: { 'X-Tenant': '<tenant>' } } },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status, patched.text).toBe(200);
    const reports = await untilReportsAreCurrent('payments');
    const atlassian = reports.find((report) => report.scope.name === 'atlassian');
    expect(atlassian.results.filter((result: any) => result.result === 'fail').length).toBeGreaterThan(0);
    const changed = (await judged('payments')).find(({ object }) => object.metadata.name === 'atlassian');
    const message = eventMessage(changed?.verdict.denials ?? []);
    await eventually(async () => ((await violationEvents('payments')).some((event) => event.involvedObject.name === 'atlassian' && event.message === message) ? true : undefined));
  });

  it('remove the report of a deleted object (no garbage collector runs here: the audit does it)', async () => {
    await request(endpoint(plane), 'DELETE', mcpServerPath('payments', 'plain-http'));
    const reports = await untilReportsAreCurrent('payments');
    expect(reports.some((report) => report.scope.name === 'plain-http')).toBe(false);
    for (const name of ['bad-header-name', 'atlassian']) await request(endpoint(plane), 'DELETE', mcpServerPath('payments', name));
    await eventually(async () => ((await reportsIn(plane, 'payments')).length === 0 ? true : undefined), 30_000);
  });

  it('hand over to the other replica when the leader stops, which goes on judging and writing', async () => {
    const leader = (await holder()) as string;
    const other = REPLICAS.find((name) => name !== leader) as string;
    await replicas.get(leader)?.stop();
    const next = await eventually(async () => ((await holder()) === other ? other : undefined), 30_000);
    expect(next).toBe(other);
    expect(replicas.get(other)?.logs().some((line) => line.event === 'audit-leader' && line.leader === true)).toBe(true);

    const object = readExample('vendor-tools.yaml');
    await createObject(plane, mcpServerPath('muster'), { ...object, metadata: { name: 'vendor-tools-later', namespace: 'muster' } });
    await untilReportsAreCurrent('muster');
    const event = await eventually(async () => (await violationEvents('muster')).find((candidate) => candidate.involvedObject.name === 'vendor-tools-later'));
    expect(event.reportingInstance).toBe(other);
  });

  it('met no error of the API server on the way', () => {
    const errors = [...replicas.values()].flatMap((replica) => replica.logs().filter((line) => line.event === 'audit-error' || line.level === 'error'));
    expect(errors).toEqual([]);
  });
});
