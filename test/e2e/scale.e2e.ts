import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type ChildServer, type LogLine } from '../server/child-server.js';
import { copyExamples, grantChartAuditRbac, metrics, sumOf } from './audit-setup.js';
import { adminClients, createNamespace, installCrd, MCPSERVER_CRD, POLICY_REPORT_CRD, serviceAccount, writeKubeconfig } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { temporaryFolder } from './processes.js';
import { createAll, namespacesOf, ReportWatch, scaleFleet } from './scale-setup.js';
import { startWebhook } from './webhook.js';

/**
 * `serve --audit` at the scale Muster's `family` exists for: 1,000 MCPServers in one namespace
 * (one per workload cluster and the like) and 100 in two others, as the service account the
 * chart's RBAC binds, except that it may not write PolicyReports in one more namespace. Every
 * MCPServer must land in a report, whatever the layout of the reports (one per namespace, one per
 * MCPServer); no report may come near the API server's limits; and the refused namespace must be
 * reported without holding up the others.
 */

const RELEASE_NAMESPACE = 'mcpserver-webhook';
const CROWDED = 'muster';
const CROWDED_COUNT = 1000;
/** Its MCPServers are judged, but the API server refuses the audit's writes there. */
const REFUSED = 'reports-refused';
const MIB = 1024 * 1024;
/** Long enough for the first pass on a loaded 2-core machine: the bench measures it (bench/scale.ts). */
const REPORTED_WITHIN_MS = 60_000;

let plane: ControlPlane;
let webhook: ChildServer;
let watch: ReportWatch;
let uids: string[];
const folder = temporaryFolder('scale');

beforeAll(async () => {
  plane = await startControlPlane();
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await installCrd(plane, POLICY_REPORT_CRD);
  for (const namespace of [RELEASE_NAMESPACE, REFUSED]) await createNamespace(clients, namespace);
  const planned = scaleFleet(CROWDED_COUNT + 100, { share: CROWDED_COUNT / (CROWDED_COUNT + 100), crowded: CROWDED, perNamespace: 50 });
  uids = await createAll(plane, clients, planned);
  await copyExamples(plane, REFUSED, ['invalid/plaintext-url.yaml', 'atlassian.yaml']);
  await grantChartAuditRbac(plane, RELEASE_NAMESPACE, 'mcpserver-webhook', { reportWritesOnlyIn: namespacesOf(planned) });
  const kubeconfig = writeKubeconfig(plane, await serviceAccount(clients, RELEASE_NAMESPACE, 'mcpserver-webhook'));
  watch = new ReportWatch(plane);
  webhook = await startWebhook(folder.path, {
    args: ['--audit', '--kubeconfig', kubeconfig, '--audit-namespace', RELEASE_NAMESPACE, '--metrics-port', '0'],
    env: { POD_NAME: 'replica-a' },
  });
});

afterAll(async () => {
  await watch?.stop();
  await webhook?.stop();
  await plane?.stop();
  folder.remove();
});

/** The webhook's log lines at warn and error. */
const problems = (): LogLine[] => webhook.logs().filter((line) => line.level === 'warn' || line.level === 'error');

describe(`serve --audit with ${CROWDED_COUNT} MCPServers in one namespace`, () => {
  it('puts every MCPServer in a PolicyReport, while the writes of one namespace are refused', async () => {
    await watch.until(() => watch.missing(uids) === 0, REPORTED_WITHIN_MS);
    expect(watch.missing(uids), `MCPServers in no PolicyReport after ${REPORTED_WITHIN_MS / 1000} s, of ${uids.length}`).toBe(0);
  }, REPORTED_WITHIN_MS + 30_000);

  it('keeps every report under 1 MiB, with a summary that counts its results; none is refused as too large', () => {
    const reports = watch.all();
    expect(reports.length).toBeGreaterThan(0);
    const largest = Math.max(...reports.map((report) => report.bytes));
    expect(largest, `the largest PolicyReport, in bytes`).toBeLessThan(MIB);
    expect(reports.filter((report) => !report.summaryAgrees).map((report) => `${report.namespace}/${report.name}`)).toEqual([]);
    expect(reports.filter((report) => report.namespace === REFUSED)).toEqual([]);
    // A report the API server refuses is never stored, so its size shows only in the refusal.
    expect(problems().filter((line) => /\b413\b|too large/i.test(String(line.msg)))).toEqual([]);
  });

  it('reports the refused writes: a warning or error that names the namespace, and the metric', async () => {
    const refusal = await eventually(async () => problems().find((line) => JSON.stringify(line).includes(REFUSED)), 30_000, 500);
    expect(JSON.stringify(refusal)).toMatch(/forbidden|may not|cannot/i);
    const series = await metrics(webhook.metricsPort);
    expect(sumOf(series, 'mcpserver_webhook_audit_write_errors_total', { resource: 'policyreports', error: 'forbidden' })).toBeGreaterThan(0);
  });

  it('refuses nothing else: no write error but the forbidden ones', async () => {
    const series = await metrics(webhook.metricsPort);
    const errors = sumOf(series, 'mcpserver_webhook_audit_write_errors_total', { resource: 'policyreports' });
    const forbidden = sumOf(series, 'mcpserver_webhook_audit_write_errors_total', { resource: 'policyreports', error: 'forbidden' });
    const said = problems().map((line) => String(line.msg));
    expect(errors - forbidden, `PolicyReport writes refused for another reason than RBAC; the webhook said: ${JSON.stringify(said)}`).toBe(0);
  });
});
