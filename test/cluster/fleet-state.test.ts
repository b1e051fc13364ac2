import { afterEach, describe, expect, it } from 'vitest';
import { decodeChanges, encodeChanges, type CacheChange } from '../../src/cluster/cache-change.js';
import { connect } from '../../src/cluster/connection.js';
import { FleetCache } from '../../src/cluster/fleet-cache.js';
import { FleetState } from '../../src/cluster/fleet-state.js';
import { NamespaceLabels } from '../../src/cluster/namespace-labels.js';
import type { Fleet } from '../../src/engine/index.js';
import { fixtureCluster, until } from '../audit/audit-harness.js';
import { startFakeApiServer, type FakeApiServer } from './fake-api-server.js';
import type { FakeCluster } from './fake-cluster.js';

/**
 * The replica that admission reads when the audit runs in a worker thread, kept in step by the
 * changes of the real cache and labels watching the fake API server. Every change crosses as JSON
 * text (encodeChanges, decodeChanges), as it crosses threads.
 */
const BACKOFF = { initialMs: 20, maxMs: 200 };
const NO_REPORTS = () => ({ restarted: () => {}, failed: () => {}, succeeded: () => {} });

let server: FakeApiServer | undefined;
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  await server?.close();
  server = undefined;
});

async function replicated(cluster: FakeCluster): Promise<{ cache: FleetCache; labels: NamespaceLabels; replica: FleetState; changes: CacheChange[] }> {
  server = await startFakeApiServer(cluster.answer);
  const connection = connect({ kubeconfig: server.kubeconfig, env: {} });
  const replica = new FleetState({ secrets: true });
  const changes: CacheChange[] = [];
  const replicate = (change: CacheChange): void => {
    changes.push(change);
    // As the changes cross to the main thread: one at a time here, in messages of 256 there.
    for (const crossed of decodeChanges(encodeChanges([change]))) replica.apply(crossed);
  };
  const cache = new FleetCache({ connection, backoff: BACKOFF, secrets: true, reports: NO_REPORTS, replicate });
  const labels = new NamespaceLabels(connection, BACKOFF, replicate);
  stops.push(() => cache.stop(), () => labels.stop());
  return { cache, labels, replica, changes };
}

/** Each member's id and object, for comparing two fleets. */
const members = (fleet: Fleet | undefined): [string, unknown][] => [...(fleet?.ids() ?? [])].sort().map((id) => [id, fleet?.get(id)]);

describe('FleetState, as a replica of the cache', () => {
  it('has no fleet until the MCPServers and the Secrets are both listed, then the same one as the cache', async () => {
    const cluster = fixtureCluster();
    cluster.createSecret('prod/vendor-token');
    const { cache, replica } = await replicated(cluster);
    expect(replica.fleet()).toBeUndefined();
    cache.start();
    await until(() => cache.fleet() !== undefined && replica.fleet() !== undefined, 'both fleets');
    expect(members(replica.fleet())).toEqual(members(cache.fleet()));
    expect(members(replica.fleet())).toHaveLength(4);
    expect(replica.fleet()?.secrets?.has('prod', 'vendor-token')).toBe(true);
    expect(replica.fleet()?.secrets?.has('prod', 'other')).toBe(false);
  });

  it('follows every change, and a relist that finds objects deleted while the watch was down', async () => {
    const cluster = fixtureCluster();
    const { cache, replica } = await replicated(cluster);
    cache.start();
    await until(() => replica.fleet(), 'the replica');
    const added = cluster.apply({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name: 'added', namespace: 'dev' }, spec: { type: 'stdio', command: 'mcp' } });
    cluster.createSecret('dev/new-token');
    await until(() => replica.fleet()?.get(added.metadata.uid as string) !== undefined && replica.fleet()?.secrets?.has('dev', 'new-token'), 'the new object and Secret');
    const [uid, removed] = members(cache.fleet()).find(([id]) => id !== added.metadata.uid) ?? [];
    const { namespace, name } = (removed as { metadata: { namespace: string; name: string } }).metadata;
    cluster.remove(namespace, name);
    await until(() => replica.fleet()?.get(uid ?? '') === undefined, 'the deletion');
    expect(members(replica.fleet())).toEqual(members(cache.fleet()));

    // Deleted while no watch ran: only the relist after the expired watch tells.
    cluster.closeWatches();
    cluster.remove('dev', 'added');
    cluster.expireHistory();
    await until(() => replica.fleet()?.get(added.metadata.uid as string) === undefined, 'the deletion seen by the relist');
    expect(members(replica.fleet())).toEqual(members(cache.fleet()));
  });

  it("keeps the namespaces' labels as the labels' watch has them, and forgets them when it stops", async () => {
    const cluster = fixtureCluster();
    const { labels, replica } = await replicated(cluster);
    let synced = false;
    labels.start({ ...NO_REPORTS(), synced: () => (synced = true), changed: () => {} });
    await until(() => synced, 'the namespaces');
    expect(replica.namespaceInfo('prod')).toEqual(labels.info('prod'));
    expect(replica.namespaceInfo('prod').labels).toBeDefined();
    cluster.labelNamespace('dev', { 'muster.giantswarm.io/tier': 'production' });
    await until(() => replica.namespaceInfo('dev').labels?.['muster.giantswarm.io/tier'] === 'production', 'the new label');
    expect(replica.namespaceInfo('dev')).toEqual(labels.info('dev'));
    await labels.stop();
    expect(replica.namespaceInfo('prod')).toEqual({ name: 'prod' });
  });
});
