import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/cluster/connection.js';
import { ContinuousAudit } from '../../src/audit/continuous-audit.js';
import { parsePolicy, Policy, RULES, rulesConcerning } from '../../src/engine/index.js';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import { metricValue } from '../server/test-app.js';
import { fixtureCluster, memoryLogger, settle, startAuditRig, TEST_TIMING, until, type AuditReplica, type AuditRig } from './audit-harness.js';
import { closedPort, writeKubeconfig, type RecordedRequest } from '../cluster/fake-api-server.js';
import { statusBody } from '../cluster/fake-cluster.js';

let rig: AuditRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function start(): Promise<AuditRig> {
  rig = await startAuditRig();
  return rig;
}

type Json = Record<string, unknown> & { metadata: Record<string, unknown> };
interface Scope {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}
interface Result {
  policy: string;
  rule: string;
  result: string;
  message?: string;
  source: string;
  scored: boolean;
  timestamp: { seconds: number; nanos: number };
}
type Report = Json & { scope: Scope; results: Result[]; summary: Record<string, number> };
/** A result with the MCPServer its report is about. */
type ScopedResult = Result & { resources: [Scope] };

const ADMISSION_RULES = RULES.filter((rule) => rule.defaults.admission !== 'off').map((rule) => rule.id).sort();

/** The rules a stored MCPServer's report has a result for by default: those the admission context applies and that concern it. */
function reportedRules(rig: AuditRig, namespace: string, name: string): string[] {
  const concerned = new Set(rulesConcerning(rig.cluster.mcpservers.items.get(`${namespace}/${name}`)));
  return ADMISSION_RULES.filter((rule) => concerned.has(rule));
}
const STDIO_UID = '9e4d2b7a-1c5f-4a8e-b3d0-6f2e8c1a7b54';

/** The reports of a namespace, by the name of the MCPServer each is about. */
function reportsIn(rig: AuditRig, namespace: string): Map<string, Report> {
  const reports = [...rig.cluster.policyReports.entries()].filter(([key]) => key.startsWith(`${namespace}/`)).map(([, report]) => report as unknown as Report);
  return new Map(reports.map((report) => [report.scope.name, report]));
}

/** Every result of a namespace's reports, by MCPServer name and rule, or undefined while it has none. */
function report(rig: AuditRig, namespace: string): { results: ScopedResult[] } | undefined {
  const reports = [...reportsIn(rig, namespace).values()].sort((a, b) => a.scope.name.localeCompare(b.scope.name));
  if (reports.length === 0) return undefined;
  return { results: reports.flatMap((one) => one.results.map((result): ScopedResult => ({ ...result, resources: [one.scope] }))) };
}

/** Changes a stored MCPServer as a client would (a new resourceVersion, the same uid). */
function change(rig: AuditRig, namespace: string, name: string, edit: (object: Json) => void): void {
  const object = structuredClone(rig.cluster.mcpservers.items.get(`${namespace}/${name}`)) as Json;
  edit(object);
  rig.cluster.apply(object);
}

const resultOf = (results: readonly ScopedResult[], name: string, rule: string): ScopedResult | undefined =>
  results.find((result) => result.resources[0]?.name === name && result.rule === rule);

async function leading(replica: AuditReplica): Promise<void> {
  await until(async () => metricValue((await replica.metrics.exposition()).body, 'mcpserver_webhook_audit_leader') === 1, 'leadership');
}

async function metricsOf(replica: AuditReplica): Promise<string> {
  return (await replica.metrics.exposition()).body;
}

describe('PolicyReports', () => {
  it('writes one report per MCPServer, scoped to it and owned by it: a result per rule, pass included, summarised', async () => {
    const rig = await start();
    rig.replica();
    await until(() => reportsIn(rig, 'dev').size === 1 && reportsIn(rig, 'muster').size === 2 && reportsIn(rig, 'prod').size === 1, 'four reports');
    const stdio = reportsIn(rig, 'muster').get('stdio-without-command')!;

    expect(stdio.apiVersion).toBe('wgpolicyk8s.io/v1alpha2');
    expect(stdio.kind).toBe('PolicyReport');
    expect(stdio.metadata).toMatchObject({
      name: `mcpserver-webhook-${STDIO_UID}`,
      labels: { 'app.kubernetes.io/managed-by': 'mcpserver-webhook' },
      ownerReferences: [{ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', name: 'stdio-without-command', uid: STDIO_UID }],
    });
    expect(stdio.scope).toEqual({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', name: 'stdio-without-command', namespace: 'muster', uid: STDIO_UID });
    // Every rule the admission context applies that concerns the object, in rule order.
    expect(stdio.results.map((result) => result.rule)).toEqual(reportedRules(rig, 'muster', 'stdio-without-command'));
    expect(stdio.results.find((result) => result.rule === 'stdio-command-required')).toEqual({
      policy: 'mcpserver-webhook',
      rule: 'stdio-command-required',
      result: 'fail',
      message: 'spec.command: is required when spec.type is stdio: set it to the executable that starts the MCP server',
      source: 'mcpserver-webhook',
      scored: true,
      timestamp: { seconds: expect.any(Number), nanos: 0 },
    });
    const muster = report(rig, 'muster')!;
    expect(resultOf(muster.results, 'atlassian', 'authorization-server-override')).toMatchObject({ result: 'warn', scored: true });
    expect(resultOf(muster.results, 'atlassian', 'plaintext-url')).not.toHaveProperty('message');
    expect(resultOf(muster.results, 'atlassian', 'plaintext-url')).toMatchObject({ result: 'pass', scored: true });
    const passes = (namespace: string, name: string): number => reportedRules(rig, namespace, name).length - 1;
    expect(stdio.summary).toEqual({ pass: passes('muster', 'stdio-without-command'), fail: 1, warn: 0, error: 0, skip: 0 });
    expect(reportsIn(rig, 'muster').get('atlassian')!.summary).toEqual({ pass: passes('muster', 'atlassian'), fail: 0, warn: 1, error: 0, skip: 0 });
    expect(reportsIn(rig, 'prod').get('plain-http')!.summary).toEqual({ pass: passes('prod', 'plain-http'), fail: 0, warn: 1, error: 0, skip: 0 });
  });

  it('reports an audit-only finding as skip, and leaves out rules the policy switches off', async () => {
    const rig = await start();
    rig.replica('replica-a', parsePolicy('rules: {plaintext-url: audit, header-syntax: off}\n', 'policy.yaml'));
    const dev = await until(() => report(rig, 'dev'), 'the dev report');
    expect(resultOf(dev.results, 'plain-http', 'plaintext-url')).toMatchObject({
      result: 'skip',
      scored: false,
      message: expect.stringContaining('spec.url: uses plain http://'),
    });
    expect(resultOf(dev.results, 'plain-http', 'header-syntax')).toBeUndefined();
    expect(reportsIn(rig, 'dev').get('plain-http')!.summary).toMatchObject({ skip: 1, warn: 0 });
  });

  it('updates the report of an object that changes, and writes nothing, not even a read, when nothing it says has changed', async () => {
    const rig = await start();
    rig.replica();
    await until(() => report(rig, 'dev') && reportsIn(rig, 'muster').size === 2 && report(rig, 'prod'), 'four reports');
    await settle();
    const before = reportsIn(rig, 'muster');
    const reportRequests = (): RecordedRequest[] => rig.server.requests.filter((request) => request.path.includes('/policyreports'));
    const writes = rig.writes('policyreports').length;
    const requests = reportRequests().length;

    // The reconciler's status update, a bookmark, a dropped watch: new resourceVersions, the same verdicts.
    change(rig, 'muster', 'stdio-without-command', (object) => (object.status = { state: 'failed' }));
    rig.cluster.bookmark();
    rig.cluster.closeWatches();
    await settle(400);
    expect(reportRequests()).toHaveLength(requests);

    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'stdio', command: 'mcp-jira' }));
    const changed = (): Report | false => {
      const now = reportsIn(rig, 'muster').get('stdio-without-command');
      return now?.metadata.resourceVersion !== before.get('stdio-without-command')?.metadata.resourceVersion && now!;
    };
    const after = await until(changed, 'an update');
    // Only the report of the object that changed is written.
    expect(rig.writes('policyreports').slice(writes).map((request) => `${request.method} ${request.path.split('/').at(-1)}`)).toEqual([`PUT mcpserver-webhook-${STDIO_UID}`]);
    expect(after.results.find((result) => result.rule === 'stdio-command-required')?.result).toBe('pass');
    expect(after.summary).toMatchObject({ fail: 0 });
    expect(reportsIn(rig, 'muster').get('atlassian')).toEqual(before.get('atlassian'));
  });

  it('removes the report of a deleted object', async () => {
    const rig = await start();
    rig.replica();
    await until(() => report(rig, 'dev') && reportsIn(rig, 'muster').size === 2, 'the reports');
    const plainHttpUid = rig.cluster.mcpservers.items.get('dev/plain-http')?.metadata.uid;
    rig.cluster.remove('dev', 'plain-http');
    rig.cluster.remove('muster', 'stdio-without-command');
    await until(() => report(rig, 'dev') === undefined && reportsIn(rig, 'muster').size === 1, 'two reports to go');
    expect([...reportsIn(rig, 'muster').keys()]).toEqual(['atlassian']);
    expect(rig.writes('policyreports').filter((request) => request.method === 'DELETE').map((request) => request.path.split('/').slice(-3).join('/')).sort()).toEqual(
      [`dev/policyreports/mcpserver-webhook-${plainHttpUid}`, `muster/policyreports/mcpserver-webhook-${STDIO_UID}`].sort(),
    );
  });

  it('removes on upgrade the one report per namespace of earlier versions, and reports left behind by objects deleted meanwhile', async () => {
    const cluster = fixtureCluster();
    const managed = { 'app.kubernetes.io/managed-by': 'mcpserver-webhook' };
    cluster.policyReports.set('muster/mcpserver-webhook', { apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'mcpserver-webhook', namespace: 'muster', labels: managed, resourceVersion: '7' } });
    const orphan = 'mcpserver-webhook-00000000-0000-4000-8000-000000000000';
    cluster.policyReports.set(`dev/${orphan}`, { apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: orphan, namespace: 'dev', labels: managed, resourceVersion: '8' } });
    const foreign = { apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'kyverno-owned', namespace: 'dev', resourceVersion: '9' } };
    cluster.policyReports.set('dev/kyverno-owned', foreign);
    rig = await startAuditRig(cluster);
    const current = rig;
    current.replica();
    await until(() => !current.cluster.policyReports.has('muster/mcpserver-webhook') && !current.cluster.policyReports.has(`dev/${orphan}`) && reportsIn(current, 'muster').size === 2, 'the old reports to go');
    expect(current.cluster.policyReports.get('dev/kyverno-owned')).toEqual(foreign);
  });
});

describe('refused writes', () => {
  /** What RBAC answers a service account that may not create PolicyReports in `namespace` (the authorizer's words, as recorded in fixtures/). */
  const forbidden = (namespace: string) => ({
    status: 403,
    body: statusBody(
      403,
      'Forbidden',
      `policyreports.wgpolicyk8s.io is forbidden: User "system:serviceaccount:mcpserver-webhook:mcpserver-webhook" cannot create resource "policyreports" in API group "wgpolicyk8s.io" in the namespace "${namespace}"`,
      { group: 'wgpolicyk8s.io', kind: 'policyreports' },
    ),
  });

  it('says once, at warn, which namespace refuses and how to fix it, counts it by reason, retries with backoff, and writes the rest', async () => {
    const rig = await start();
    const writesToDev = (): RecordedRequest[] => rig.server.requests.filter((request) => request.method === 'POST' && request.path.includes('/namespaces/dev/policyreports'));
    rig.cluster.refusing = (request) => (request.method === 'POST' && request.path.includes('/namespaces/dev/policyreports') ? forbidden('dev') : undefined);
    const replica = rig.replica();
    await until(() => reportsIn(rig, 'muster').size === 2 && reportsIn(rig, 'prod').size === 1 && writesToDev().length > 0, 'the other reports, and a refused one');
    await settle(1000);

    const refusals = replica.log.lines().filter((line) => line.event === 'policy-report-refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ level: 'warn', namespace: 'dev', reason: 'forbidden' });
    expect(String(refusals[0]?.msg)).toContain('may not create policyreports.wgpolicyk8s.io in the namespace dev: grant create (RBAC)');
    expect(metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_write_errors_total{resource="policyreports",error="forbidden"}')).toBeGreaterThan(0);
    // Backoff (20 ms doubling to 200 ms in these tests): a handful of tries in a second, not a loop.
    expect(writesToDev().length).toBeLessThan(15);
    expect(reportsIn(rig, 'dev').size).toBe(0);

    rig.cluster.refusing = undefined;
    await until(() => reportsIn(rig, 'dev').size === 1, 'the dev report once RBAC allows it');
    await until(() => replica.log.lines().some((line) => line.event === 'policy-report-accepted' && line.namespace === 'dev'), 'a line that says so');
  });
});

describe('judging what a change affects', () => {
  it('judges again the family members of an object that changes, and its tool-name-space peers', async () => {
    const rig = await start();
    const member = (name: string, instanceArg: string) => ({
      apiVersion: 'muster.giantswarm.io/v1alpha1',
      kind: 'MCPServer',
      metadata: { name, namespace: 'muster' },
      spec: { type: 'streamable-http', url: `https://${name}.example.com/mcp`, family: { name: 'clusters', instanceArg } },
    });
    for (const name of ['cluster-a', 'cluster-b', 'cluster-c']) rig.cluster.apply(member(name, 'cluster'));
    rig.replica();
    const familyResult = (name: string) => reportsIn(rig, 'muster').get(name)?.results.find((result) => result.rule === 'family-consistency')?.result;
    await until(() => ['cluster-a', 'cluster-b', 'cluster-c'].every((name) => familyResult(name) === 'pass'), 'a family that agrees');

    // One member now disagrees: the others' verdicts change though they did not.
    rig.cluster.apply(member('cluster-c', 'workload'));
    await until(() => ['cluster-a', 'cluster-b', 'cluster-c'].every((name) => familyResult(name) === 'fail'), 'the whole family to fail');
    // And agrees again: every member passes again.
    rig.cluster.apply(member('cluster-c', 'cluster'));
    await until(() => ['cluster-a', 'cluster-b', 'cluster-c'].every((name) => familyResult(name) === 'pass'), 'the whole family to pass again');
    // Leaving the family is a change to it too.
    rig.cluster.apply(member('cluster-b', 'workload'));
    await until(() => familyResult('cluster-a') === 'fail', 'a member to see the one that left agree no more');
    rig.cluster.remove('muster', 'cluster-b');
    await until(() => familyResult('cluster-a') === 'pass', 'the family to pass once the one that disagrees is gone');
  });
});

describe('Events', () => {
  it('writes one Warning event per violating MCPServer, in the words of a denial', async () => {
    const rig = await start();
    rig.replica('replica-a');
    await until(() => rig.cluster.events.size === 1 && report(rig, 'prod'), 'an event');
    await settle();
    const [event] = [...rig.cluster.events.values()];
    expect(rig.cluster.events.size).toBe(1);
    expect(event).toMatchObject({
      metadata: { name: expect.stringMatching(/^stdio-without-command\.[0-9a-f]{16}$/), namespace: 'muster' },
      involvedObject: {
        apiVersion: 'muster.giantswarm.io/v1alpha1',
        kind: 'MCPServer',
        name: 'stdio-without-command',
        namespace: 'muster',
        uid: STDIO_UID,
        resourceVersion: '47990',
      },
      type: 'Warning',
      reason: 'PolicyViolation',
      message: 'spec.command: is required when spec.type is stdio: set it to the executable that starts the MCP server [stdio-command-required]',
      source: { component: 'mcpserver-webhook' },
      count: 1,
      reportingComponent: 'mcpserver-webhook',
      reportingInstance: 'replica-a',
    });
  });

  it('does not report a violation again while it lasts; reports it when it changes, and counts it again when it comes back', async () => {
    const rig = await start();
    rig.replica();
    await until(() => rig.cluster.events.size === 1, 'the first event');
    const first = [...rig.cluster.events.values()][0]!;

    // Other changes, the same denial: no new event.
    change(rig, 'muster', 'stdio-without-command', (object) => (object.status = { state: 'failed' }));
    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'stdio' }));
    rig.cluster.closeWatches();
    await settle(400);
    expect(rig.writes('events')).toHaveLength(1);

    // Another denial: a new event.
    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'streamable-http' }));
    await until(() => rig.cluster.events.size === 2, 'a second event');
    const second = [...rig.cluster.events.values()].find((event) => event !== first)!;
    expect(second.message).toBe("spec.url: is required when spec.type is streamable-http: set it to the server's endpoint, e.g. https://mcp.example.com/mcp [remote-url-required]");

    // Fixed, then broken the same way again: the first event counts twice.
    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'stdio', command: 'mcp-jira' }));
    await settle(200);
    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'stdio', args: ['serve'] }));
    await until(() => rig.cluster.events.get(`muster/${first.metadata.name as string}`)?.count === 2, 'the first event to count again');
    expect(rig.writes('events').map((request) => request.method)).toEqual(['POST', 'POST', 'POST', 'PATCH']);
    expect(rig.cluster.events.size).toBe(2);
  });

  it('writes the event of an object that complied until now, and counts it again when the violation comes back', async () => {
    const rig = await start();
    rig.replica();
    await until(() => rig.cluster.events.size === 1 && report(rig, 'muster'), 'the first event');
    await settle(200);
    const eventsAbout = (name: string) => [...rig.cluster.events.values()].filter((event) => (event.involvedObject as { name: string }).name === name);
    expect(eventsAbout('atlassian')).toHaveLength(0);

    change(rig, 'muster', 'atlassian', (object) => (object.spec = { type: 'stdio' }));
    await until(() => eventsAbout('atlassian').length === 1, "atlassian's first event");
    change(rig, 'muster', 'atlassian', (object) => (object.spec = { type: 'stdio', command: 'mcp-atlassian' }));
    await settle(200);
    change(rig, 'muster', 'atlassian', (object) => (object.spec = { type: 'stdio' }));
    await until(() => eventsAbout('atlassian')[0]?.count === 2, "atlassian's event to count again");
    expect(eventsAbout('atlassian')).toHaveLength(1);
    expect(eventsAbout('stdio-without-command').map((event) => event.count)).toEqual([1]);
  });

  it('retries an event it could not write while the violation lasts, and drops it when the object is deleted', async () => {
    const rig = await start();
    rig.cluster.apply({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name: 'no-url', namespace: 'prod' }, spec: { type: 'sse' } });
    const about = (request: RecordedRequest): string | undefined => (request.body as { involvedObject?: { name?: string } } | undefined)?.involvedObject?.name;
    let stdioFails = true;
    // The events of no-url fail for good; so do stdio-without-command's, until the object is deleted.
    rig.cluster.failing = (request) => request.method === 'POST' && request.path.endsWith('/events') && (stdioFails || about(request) === 'no-url');
    const replica = rig.replica();
    await until(() => rig.writes('events').length >= 4, 'failed attempts for both objects');
    rig.cluster.remove('prod', 'no-url');
    stdioFails = false;
    await until(() => rig.cluster.events.size === 1, 'the retried event');
    await settle(400);
    // A try already on its way when the object went may still arrive; after that, none.
    const triesForDeleted = rig.writes('events').filter((request) => about(request) === 'no-url').length;
    await settle(600);
    expect(rig.writes('events').filter((request) => about(request) === 'no-url')).toHaveLength(triesForDeleted);
    expect([...rig.cluster.events.values()].map((event) => (event.involvedObject as { name: string }).name)).toEqual(['stdio-without-command']);
    expect(metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_write_errors_total{resource="events",error="rejected"}')).toBeGreaterThanOrEqual(2);
    expect(replica.log.lines().filter((line) => line.event === 'audit-error' && line.part === 'events')).toHaveLength(1);
  });
});

describe('the watch', () => {
  it('picks up where it was when the API server drops the watch', async () => {
    const rig = await start();
    const replica = rig.replica();
    await until(() => report(rig, 'prod'), 'the prod report');
    const watches = (): string[] => rig.server.requests.filter((request) => request.query.watch === 'true' && request.path.endsWith('/mcpservers')).map((request) => request.query.resourceVersion ?? '');
    await until(() => watches().length === 1, 'the watch');
    rig.cluster.closeWatches();
    rig.cluster.apply({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name: 'late', namespace: 'prod' }, spec: { type: 'stdio' } });
    await until(() => [...rig.cluster.events.values()].some((event) => (event.involvedObject as { name: string }).name === 'late'), 'the event of the new object');
    // The second watch resumed from the list's resourceVersion; the objects were not listed again.
    expect(watches()).toEqual(['48213', '48213']);
    expect(rig.server.requests.filter((request) => request.path.endsWith('/mcpservers') && request.query.watch === undefined)).toHaveLength(1);
    expect(metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_watch_restarts_total{resource="mcpservers",reason="closed"}')).toBe(1);
  });

  it('lists again after 410 Gone, and forgets what was deleted while it did not watch', async () => {
    const rig = await start();
    const replica = rig.replica();
    await until(() => report(rig, 'dev'), 'the dev report');
    // Deleted without an event reaching the watch, then the history is compacted.
    rig.cluster.mcpservers.items.delete('dev/plain-http');
    rig.cluster.expireHistory();
    await until(() => report(rig, 'dev') === undefined, 'the dev report to go', 10_000);
    const metrics = await metricsOf(replica);
    expect(metricValue(metrics, 'mcpserver_webhook_audit_watch_restarts_total{resource="mcpservers",reason="expired"}')).toBe(1);
    expect(metricValue(metrics, 'mcpserver_webhook_audit_cycles_total{trigger="list"}')).toBe(2);
  });
});

describe('policy reloads', () => {
  it('judges every MCPServer again with the new policy', async () => {
    const rig = await start();
    const replica = rig.replica();
    await until(() => report(rig, 'dev') && rig.cluster.events.size === 1, 'the reports and an event');
    replica.setPolicy(parsePolicy('rules: {plaintext-url: deny}\n', 'policy.yaml'));
    replica.audit.policyReloaded();
    await until(() => resultOf(report(rig, 'dev')!.results, 'plain-http', 'plaintext-url')?.result === 'fail', 'dev to fail');
    await until(() => rig.cluster.events.size === 3, 'events for both plain-http servers');
    expect(metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_cycles_total{trigger="policy-reload"}')).toBe(1);
  });

  it('watches namespace labels while the policy has a label selector, and judges a namespace again when they change', async () => {
    const rig = await start();
    const tierPolicy = parsePolicy('namespaces:\n  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}\n    rules: {plaintext-url: deny}\n', 'tier.yaml');
    const replica = rig.replica('replica-a', tierPolicy);
    await until(() => resultOf(report(rig, 'prod')?.results ?? [], 'plain-http', 'plaintext-url')?.result === 'fail', 'prod to fail');
    expect(resultOf(report(rig, 'dev')!.results, 'plain-http', 'plaintext-url')?.result).toBe('warn');
    expect(replica.audit.namespaceInfo('prod')).toEqual({ name: 'prod', labels: { 'kubernetes.io/metadata.name': 'prod', 'muster.giantswarm.io/tier': 'production' } });

    rig.cluster.labelNamespace('dev', { 'muster.giantswarm.io/tier': 'production' });
    await until(() => resultOf(report(rig, 'dev')!.results, 'plain-http', 'plaintext-url')?.result === 'fail', 'dev to fail');

    // Without a selector the namespaces are not watched any more.
    replica.setPolicy(Policy.builtIn());
    replica.audit.policyReloaded();
    expect(replica.audit.namespaceInfo('prod')).toEqual({ name: 'prod' });
  });
});

describe('without the PolicyReport CRD', () => {
  it('says so once, goes on writing events, and writes reports once the CRD is there', async () => {
    const rig = await start();
    rig.cluster.policyReportsServed = false;
    const replica = rig.replica();
    await until(() => rig.cluster.events.size === 1, 'the event');
    await settle(700); // several looks for the CRD
    const missing = replica.log.lines().filter((line) => line.event === 'policyreport-crd-missing');
    expect(missing).toHaveLength(1);
    expect(missing[0]?.msg).toContain('the PolicyReport CRD (policyreports.wgpolicyk8s.io, version v1alpha2) is not installed');
    expect(rig.cluster.policyReports.size).toBe(0);

    rig.cluster.policyReportsServed = true;
    await until(() => report(rig, 'dev') && report(rig, 'muster') && report(rig, 'prod'), 'the reports');
    expect(replica.log.lines().filter((line) => line.event === 'policyreport-crd-found')).toHaveLength(1);
  });
});

describe('leader election', () => {
  it('lets only the replica holding the Lease write; another takes over when it stops, without writing the same things again', async () => {
    const rig = await start();
    const a = rig.replica('replica-a');
    await leading(a);
    await until(() => report(rig, 'prod') && rig.cluster.events.size === 1, 'the first writes');
    const b = rig.replica('replica-b');
    await settle(500);
    expect(metricValue(await metricsOf(b), 'mcpserver_webhook_audit_leader')).toBe(0);

    // One change: written once, by the leader.
    const writes = rig.writes().filter((request) => !request.path.includes('/leases')).length;
    change(rig, 'prod', 'plain-http', (object) => (object.spec = { type: 'stdio' }));
    await until(() => rig.cluster.events.size === 2, 'the event of the change');
    await settle(300);
    expect(rig.writes().filter((request) => !request.path.includes('/leases')).slice(writes).map((request) => request.method)).toEqual(['POST', 'PUT']);
    expect([...rig.cluster.events.values()].map((event) => event.reportingInstance)).toEqual(['replica-a', 'replica-a']);

    await a.audit.stop();
    expect(rig.cluster.leases.get('muster/mcpserver-webhook-audit')?.spec).toMatchObject({ holderIdentity: '' });
    await leading(b);
    expect(rig.cluster.leases.get('muster/mcpserver-webhook-audit')?.spec).toMatchObject({ holderIdentity: 'replica-b', leaseTransitions: 1 });
    // The new leader finds the reports as they should be and the events already written.
    await settle(300);
    const afterHandOver = rig.writes().filter((request) => !request.path.includes('/leases')).slice(writes + 2);
    expect(afterHandOver.map((request) => `${request.method} ${request.path.split('/').at(-1)}`)).toEqual(['POST events', 'POST events']);
    expect(rig.cluster.events.size).toBe(2);

    change(rig, 'dev', 'plain-http', (object) => (object.spec = { type: 'stdio' }));
    await until(() => rig.cluster.events.size === 3, 'an event from the new leader');
    expect([...rig.cluster.events.values()].at(-1)?.reportingInstance).toBe('replica-b');
  });

  it('a leader that cannot renew stops writing before another replica takes the Lease', async () => {
    const rig = await start();
    const a = rig.replica('replica-a');
    await leading(a);
    const b = rig.replica('replica-b');
    await settle(200);
    const leaderSince = { a: [] as number[], b: [] as number[] };
    const poll = setInterval(() => {
      void metricsOf(a).then((text) => metricValue(text, 'mcpserver_webhook_audit_leader') === 1 && leaderSince.a.push(Date.now()));
      void metricsOf(b).then((text) => metricValue(text, 'mcpserver_webhook_audit_leader') === 1 && leaderSince.b.push(Date.now()));
    }, 10);
    // The API server now refuses replica-a's renewals.
    rig.cluster.failing = (request) => request.method === 'PUT' && (request.body as { spec?: { holderIdentity?: string } }).spec?.holderIdentity === 'replica-a';
    await until(() => leaderSince.b.length > 0, 'replica-b to lead', 5000);
    clearInterval(poll);
    expect(Math.max(...leaderSince.a)).toBeLessThan(Math.min(...leaderSince.b));
    expect(a.audit.namespaceInfo('dev')).toEqual({ name: 'dev' });
  });
});

describe('metrics', () => {
  it('counts the violations by namespace and rule, and drops a series once its violations are gone', async () => {
    const rig = await start();
    const replica = rig.replica();
    await leading(replica);
    await until(async () => metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_violations{namespace="muster",rule="stdio-command-required"}') === 1, 'the violation');
    change(rig, 'muster', 'stdio-without-command', (object) => (object.spec = { type: 'stdio', command: 'mcp-jira' }));
    await until(async () => !(await metricsOf(replica)).includes('mcpserver_webhook_audit_violations{'), 'the series to go');
    expect(metricValue(await metricsOf(replica), 'mcpserver_webhook_audit_cycles_total{trigger="list"}')).toBe(1);
  });
});

describe('an unreachable cluster', () => {
  /** An audit with no API server behind it, run for `ms`; its log. */
  async function auditFor(ms: number, kubeconfig: string): Promise<Record<string, unknown>[]> {
    const log = memoryLogger();
    const audit = new ContinuousAudit({
      connect: () => connect({ kubeconfig, env: {} }),
      policy: () => Policy.builtIn(),
      identity: 'replica-a',
      leaseNamespace: 'muster',
      metrics: new WebhookMetrics(),
      logger: log.logger,
      timing: TEST_TIMING,
    });
    audit.start();
    await settle(ms);
    await audit.stop();
    return log.lines().filter((line) => line.event === 'audit-error');
  }

  it('is said once in the log while every part of the audit retries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-unreachable-'));
    const errors = await auditFor(600, writeKubeconfig(dir, `http://127.0.0.1:${await closedPort()}`));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/^continuous audit \((watch mcpservers|leader election)\): cannot connect to the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; retrying with backoff, admission is not affected$/);
  });

  it('keeps retrying a kubeconfig that cannot be loaded', async () => {
    const errors = await auditFor(200, '/nonexistent/kubeconfig');
    expect(errors.map((line) => line.error)).toEqual(['no kubeconfig at /nonexistent/kubeconfig (given with --kubeconfig): no such file']);
  });
});
