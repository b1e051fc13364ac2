import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditThread } from '../../src/audit/audit-thread.js';
import { parsePolicy, Policy } from '../../src/engine/index.js';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import { metricValue } from '../server/test-app.js';
import { startFakeApiServer, type FakeApiServer } from '../cluster/fake-api-server.js';
import type { FakeCluster } from '../cluster/fake-cluster.js';
import { fixtureCluster, memoryLogger, TEST_TIMING, until, type MemoryLog } from './audit-harness.js';

/**
 * The continuous audit in its worker thread, seen from the main thread, against the fake API
 * server: a real worker thread running the built worker module (dist/, which `npm test` builds
 * first), as `serve --audit` starts it.
 */
const BUILT_WORKER = new URL('../../dist/audit/audit-worker.js', import.meta.url);
const TIER_POLICY = 'namespaces:\n  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}\n    rules: {plaintext-url: deny}\n';

let api: FakeApiServer | undefined;
const threads: AuditThread[] = [];

beforeAll(() => {
  if (!existsSync(fileURLToPath(BUILT_WORKER))) throw new Error('dist/audit/audit-worker.js is missing: run npm run build (npm test does)');
});

afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.stop()));
  await api?.close();
  api = undefined;
});

interface Started {
  readonly thread: AuditThread;
  readonly cluster: FakeCluster;
  readonly metrics: WebhookMetrics;
  readonly log: MemoryLog;
  setPolicy(policy: Policy): void;
}

async function startThread(options: { policy?: Policy; workerModule?: URL } = {}): Promise<Started> {
  const cluster = fixtureCluster();
  api = await startFakeApiServer(cluster.answer);
  const metrics = new WebhookMetrics();
  const log = memoryLogger();
  let policy = options.policy ?? Policy.builtIn();
  const thread = new AuditThread({
    connect: { kubeconfig: api.kubeconfig, env: {} },
    identity: 'replica-a',
    leaseNamespace: 'muster',
    watchSecrets: false,
    writeLimit: { qps: 100, burst: 100 },
    timing: TEST_TIMING,
    restartBackoff: { initialMs: 50, maxMs: 200 },
    policy: () => policy,
    metrics,
    logger: log.logger,
    workerModule: options.workerModule ?? BUILT_WORKER,
  });
  threads.push(thread);
  thread.start();
  return { thread, cluster, metrics, log, setPolicy: (next) => (policy = next) };
}

const scrape = async (metrics: WebhookMetrics): Promise<string> => (await metrics.exposition()).body;

describe('AuditThread', () => {
  it('runs the audit in the worker, and gives admission its fleet, its log lines and its metrics', async () => {
    const { thread, cluster, metrics, log } = await startThread();
    await until(() => cluster.policyReports.size === 4, 'a report per MCPServer', 10_000);
    await until(() => thread.fleet(), 'the fleet in the main thread');
    expect([...(thread.fleet()?.ids() ?? [])].sort()).toEqual([...cluster.mcpservers.items.values()].map((object) => object.metadata.uid).sort());
    // The worker's lines come out of this thread's logger, whole.
    await until(() => log.lines().some((line) => line.event === 'audit-leader'), 'the leader line');
    expect(log.lines().find((line) => line.event === 'audit-started')).toMatchObject({ identity: 'replica-a', lease: 'muster/mcpserver-webhook-audit' });
    // Its metrics are added to this thread's; the process's own appear once.
    const text = await scrape(metrics);
    expect(metricValue(text, 'mcpserver_webhook_audit_leader')).toBe(1);
    expect(metricValue(text, 'mcpserver_webhook_audit_cycles_total{trigger="list"}')).toBe(1);
    expect(text.match(/^process_start_time_seconds /gm)).toHaveLength(1);
    metrics.ruleErrors.inc({ rule: 'plaintext-url' });
    expect(metricValue(await scrape(metrics), 'mcpserver_webhook_rule_errors_total{rule="plaintext-url"}')).toBe(1);
  });

  it("passes policy reloads on, and gives admission the namespaces' labels the policy needs", async () => {
    const { thread, cluster, setPolicy } = await startThread({ policy: parsePolicy(TIER_POLICY, 'tier.yaml') });
    await until(() => thread.namespaceInfo('prod').labels?.['muster.giantswarm.io/tier'] === 'production', "prod's labels in the main thread");
    const devResult = (): string | undefined => {
      const reports = [...cluster.policyReports.values()] as unknown as { scope: { namespace: string; name: string }; results: { rule: string; result: string }[] }[];
      return reports.find((report) => report.scope.namespace === 'dev' && report.scope.name === 'plain-http')?.results.find((result) => result.rule === 'plaintext-url')?.result;
    };
    await until(() => devResult() === 'warn', 'dev/plain-http warned', 10_000);
    setPolicy(parsePolicy('rules: {plaintext-url: deny}\n', 'policy.yaml'));
    thread.policyReloaded();
    await until(() => devResult() === 'fail', 'dev/plain-http failed under the new policy', 10_000);
    // No selector any more: the labels are no longer watched, and admission no longer has them.
    await until(() => thread.namespaceInfo('prod').labels === undefined, 'the labels forgotten');
  });

  it('releases the Lease when it stops, and its metrics go with it', async () => {
    const { thread, cluster, metrics } = await startThread();
    const holder = (): unknown => (cluster.leases.get('muster/mcpserver-webhook-audit')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
    await until(() => holder() === 'replica-a', 'the Lease', 10_000);
    await thread.stop();
    expect(holder()).toBe('');
    expect(metricValue(await scrape(metrics), 'mcpserver_webhook_audit_leader')).toBe(0);
  });

  it('gives the worker a young generation of 2 MiB, whatever node was started with', async () => {
    // The image starts node with --max-semi-space-size=8 (Dockerfile), which would make it 16 MiB.
    const { thread, log } = await startThread({ workerModule: new URL('./fixtures/young-generation-worker.mjs', import.meta.url) });
    await until(() => log.lines().some((line) => line.event === 'young-generation'), 'the worker telling its young generation', 10_000);
    const told = log.lines().find((line) => line.event === 'young-generation');
    expect(told?.newSpaceBytes).toBeGreaterThan(0);
    expect(told?.newSpaceBytes).toBeLessThanOrEqual(2 * 2 ** 20);
    await thread.stop();
  });

  it('logs a worker that stops on its own and starts it again, admission going on without the fleet', async () => {
    const { thread, log } = await startThread({ workerModule: new URL('./fixtures/failing-worker.mjs', import.meta.url) });
    await until(() => log.lines().filter((line) => line.event === 'audit-worker-exit').length >= 2, 'two exits, so a restart', 10_000);
    const [error, exit] = log.lines();
    expect(error).toMatchObject({ level: 'error', event: 'audit-internal-error', error: { message: 'this worker fails at start' } });
    expect(exit).toMatchObject({ level: 'error', event: 'audit-worker-exit', exitCode: 1 });
    expect(thread.fleet()).toBeUndefined();
    await thread.stop();
    const exits = log.lines().length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(log.lines()).toHaveLength(exits);
  });
});
