import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/cluster/connection.js';
import { FailureLog } from '../../src/cluster/failure-log.js';
import { LeaderElector } from '../../src/cluster/leader-election.js';
import { memoryLogger, settle, TEST_TIMING, until } from '../audit/audit-harness.js';
import { fixture, startFakeApiServer, type FakeApiServer } from './fake-api-server.js';
import { FakeCluster } from './fake-cluster.js';

let server: FakeApiServer | undefined;
const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((elector) => elector.stop()));
  await server?.close();
  server = undefined;
});

async function candidates(cluster: FakeCluster, identities: readonly string[]): Promise<{ electors: LeaderElector[]; told: string[] }> {
  server = await startFakeApiServer(cluster.answer);
  const connection = connect({ kubeconfig: server.kubeconfig, env: {} });
  const told: string[] = [];
  const started = identities.map(
    (identity) =>
      new LeaderElector({
        connection,
        namespace: 'muster',
        name: 'mcpserver-webhook-audit',
        identity,
        timing: TEST_TIMING.lease,
        failures: new FailureLog(memoryLogger().logger),
        onWriteError: (kind) => told.push(`${identity} failed: ${kind}`),
        onStartedLeading: () => told.push(`${identity} leads`),
        onStoppedLeading: () => told.push(`${identity} stops`),
      }),
  );
  electors.push(...started);
  for (const elector of started) elector.start();
  return { electors: started, told };
}

const lease = (cluster: FakeCluster) => cluster.leases.get('muster/mcpserver-webhook-audit') as { spec: Record<string, unknown>; metadata: Record<string, unknown> } | undefined;
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe('LeaderElector', () => {
  it('of two candidates that create the Lease at once, lets exactly one lead, and it renews', async () => {
    const cluster = new FakeCluster();
    const { electors: [a, b], told } = await candidates(cluster, ['replica-a', 'replica-b']);
    await until(() => told.some((said) => said.endsWith('leads')), 'a leader');
    const first = structuredClone(lease(cluster)!);
    await settle(700);
    // The loser of the race to create the Lease was told it exists (409), and then found it held.
    expect(told.filter((said) => said.endsWith('leads'))).toHaveLength(1);
    expect(told.filter((said) => said.includes('failed'))).toEqual([expect.stringMatching(/^replica-[ab] failed: conflict$/)]);
    expect([a!.isLeader(), b!.isLeader()].filter(Boolean)).toHaveLength(1);
    // Both asked to create it; the API server took one.
    expect(server!.requests.filter((request) => request.method === 'POST')).toHaveLength(2);

    const renewed = lease(cluster)!;
    expect(first.spec).toMatchObject({ leaseDurationSeconds: 1, leaseTransitions: 0, acquireTime: expect.stringMatching(MICRO_TIME), renewTime: expect.stringMatching(MICRO_TIME) });
    expect(renewed.spec.holderIdentity).toBe(first.spec.holderIdentity);
    expect(renewed.spec.acquireTime).toBe(first.spec.acquireTime);
    expect(renewed.spec.renewTime).not.toBe(first.spec.renewTime);
    expect(Number(renewed.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
  });

  it('waits for a Lease held by another to stay unchanged for its duration before taking it', async () => {
    const cluster = new FakeCluster();
    // Another replica's Lease, as the API server returns it, renewed long ago by that replica's clock;
    // its duration shortened to one second for the test.
    const held = fixture('lease') as { spec: Record<string, unknown> };
    held.spec.leaseDurationSeconds = 1;
    cluster.leases.set('muster/mcpserver-webhook-audit', held as never);
    const started = Date.now();
    const { electors: [a], told } = await candidates(cluster, ['replica-a']);
    await until(() => told.some((said) => said.endsWith('leads')), 'the takeover');
    // Its own clock decides: the record's renewTime, long past, is not compared with it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(a!.isLeader()).toBe(true);
    expect(lease(cluster)!.spec).toMatchObject({ holderIdentity: 'replica-a', leaseTransitions: 1 });
  });

  it('releases the Lease on stop, so that it is free at once', async () => {
    const cluster = new FakeCluster();
    const { electors: [a], told } = await candidates(cluster, ['replica-a']);
    await until(() => told.some((said) => said.endsWith('leads')), 'a leader');
    await a!.stop();
    expect(a!.isLeader()).toBe(false);
    expect(told).toEqual(['replica-a leads', 'replica-a stops']);
    expect(lease(cluster)!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
  });
});
