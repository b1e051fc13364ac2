import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ChildServer } from '../server/child-server.js';
import { createExamples, grantChartAuditRbac, metric, reportsIn, untilReportsAreCurrent } from './audit-setup.js';
import { adminClients, createNamespace, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath, POLICY_REPORT_CRD, serviceAccount, writeKubeconfig } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { request } from './kube-http.js';
import { temporaryFolder } from './processes.js';
import { startWebhook } from './webhook.js';

/**
 * `serve --audit` when the history a watch would resume from is gone: the API server answers
 * 410 Gone (Expired), and the audit lists everything again. Made to happen within seconds: the
 * API server ends watches every 5 to 10 s, serves them from etcd rather than its watch cache,
 * and has etcd compact its history every 2 s, while the Lease renewals move the revision on.
 */

const RELEASE_NAMESPACE = 'mcpserver-webhook';
const NAMESPACE = 'muster';
const EXPIRED = 'mcpserver_webhook_audit_watch_restarts_total{resource="mcpservers",reason="expired"}';

let plane: ControlPlane;
let replica: ChildServer;
const folder = temporaryFolder('replica');

beforeAll(async () => {
  plane = await startControlPlane({ apiServerFlags: ['--min-request-timeout=5', '--watch-cache=false', '--etcd-compaction-interval=2s'] });
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await installCrd(plane, POLICY_REPORT_CRD);
  for (const namespace of [NAMESPACE, RELEASE_NAMESPACE]) await createNamespace(clients, namespace);
  await createExamples(plane, NAMESPACE);
  await grantChartAuditRbac(plane, RELEASE_NAMESPACE, 'mcpserver-webhook');
  const kubeconfig = writeKubeconfig(plane, await serviceAccount(clients, RELEASE_NAMESPACE, 'mcpserver-webhook'));
  const args = ['--audit', '--kubeconfig', kubeconfig, '--audit-namespace', RELEASE_NAMESPACE, '--metrics-port', '0'];
  replica = await startWebhook(folder.path, { args, env: { POD_NAME: 'replica-a' } });
});

afterAll(async () => {
  await replica?.stop();
  await plane?.stop();
  folder.remove();
});

describe('a watch whose history is gone (410)', () => {
  it('is followed by a new list, which rewrites nothing that has not changed', async () => {
    const versions = (reports: readonly any[]): string[] => reports.map((report) => `${report.metadata.name} ${report.metadata.resourceVersion}`).sort();
    const before = versions(await untilReportsAreCurrent(plane, NAMESPACE));
    await eventually(async () => ((await metric(replica.metricsPort, EXPIRED)) > 0 ? true : undefined), 60_000, 500);
    expect(versions(await reportsIn(plane, NAMESPACE))).toEqual(before);
  });

  it('goes on judging what changes after it', async () => {
    const expired = await metric(replica.metricsPort, EXPIRED);
    await eventually(async () => ((await metric(replica.metricsPort, EXPIRED)) > expired ? true : undefined), 60_000, 500);
    const deleted = await request(endpoint(plane), 'DELETE', mcpServerPath(NAMESPACE, 'vendor-tools'));
    expect(deleted.status, deleted.text).toBe(200);
    const reports = await untilReportsAreCurrent(plane, NAMESPACE);
    expect(reports.some((report) => report.scope.name === 'vendor-tools')).toBe(false);
  });

  it('is no error in the log', () => {
    expect(replica.logs().filter((line) => line.event === 'audit-error' || line.level === 'error')).toEqual([]);
  });
});
