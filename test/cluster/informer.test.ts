import { afterEach, describe, expect, it } from 'vitest';
import { connect, listMCPServers, MCPSERVERS } from '../../src/cluster/connection.js';
import { Informer, type InformerHandlers } from '../../src/cluster/informer.js';
import { settle, until } from '../audit/audit-harness.js';
import { allMCPServers, fixture, MCPSERVERS_PATH, startFakeApiServer, type Answer, type FakeApiServer, type RecordedRequest } from './fake-api-server.js';
import { FakeCluster, statusBody, tooOldResourceVersion } from './fake-cluster.js';

let server: FakeApiServer | undefined;
let informer: Informer | undefined;
afterEach(async () => {
  await informer?.stop();
  await server?.close();
  informer = undefined;
  server = undefined;
});

/** What the informer told its handlers, in order. */
async function watchFake(cluster: FakeCluster, answer: (request: RecordedRequest) => Answer | undefined = cluster.answer): Promise<{ seen: string[]; watches: () => string[] }> {
  server = await startFakeApiServer(answer);
  const connection = connect({ kubeconfig: server.kubeconfig, env: {} });
  informer = new Informer({ connection, resource: MCPSERVERS, list: () => listMCPServers(connection), backoff: { initialMs: 20, maxMs: 100 } });
  const seen: string[] = [];
  const handlers: InformerHandlers = {
    synced: (items) => seen.push(`synced ${items.length}`),
    changed: (type, item) => seen.push(`${type} ${(item as { metadata: { name: string } }).metadata.name}`),
    restarted: (reason) => seen.push(`restarted ${reason}`),
    failed: (error) => seen.push(`failed ${error.kind}: ${error.message}`),
    succeeded: () => undefined,
  };
  informer.start(handlers);
  const requests = server.requests;
  return { seen, watches: () => requests.filter((request) => request.query.watch === 'true').map((request) => request.query.resourceVersion ?? '') };
}

const object = (name: string) => ({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name, namespace: 'dev' }, spec: { type: 'stdio', command: 'x' } });

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion with bookmarks, and resumes from the last event or bookmark', async () => {
    const cluster = new FakeCluster({ mcpservers: allMCPServers() });
    const { seen, watches } = await watchFake(cluster);
    await until(() => watches().length === 1, 'the watch');
    expect(server?.requests[1]?.query).toEqual({ watch: 'true', resourceVersion: '48213', allowWatchBookmarks: 'true' });
    const added = cluster.apply(object('a'));
    cluster.apply({ ...added, spec: { type: 'stdio', command: 'y' } });
    cluster.remove('dev', 'a');
    cluster.bookmark();
    await until(() => seen.length === 4, 'the events');
    cluster.closeWatches();
    await until(() => watches().length === 2, 'the second watch');
    expect(seen).toEqual(['synced 4', 'ADDED a', 'MODIFIED a', 'DELETED a', 'restarted closed']);
    // 48214–48216 were the changes, 48217 the bookmark: the watch goes on from there, without a list.
    expect(watches()).toEqual(['48213', '48217']);
  });

  it('restarts after an ERROR event from the same resourceVersion, and says why', async () => {
    const cluster = new FakeCluster({ mcpservers: allMCPServers() });
    const { seen, watches } = await watchFake(cluster);
    await until(() => watches().length === 1, 'the watch');
    for (const watch of cluster.mcpservers.watches) watch.send('ERROR', statusBody(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out'));
    await until(() => watches().length === 2, 'the second watch');
    expect(watches()).toEqual(['48213', '48213']);
    expect(seen.slice(1)).toEqual([
      'restarted error',
      expect.stringMatching(/^failed rejected: the Kubernetes API server at http:\/\/127\.0\.0\.1:\d+ answered 500 InternalError to watch mcpservers\.muster\.giantswarm\.io: Internal error occurred: etcdserver: request timed out$/),
    ]);
  });

  it('lists again when the watch is answered 410 Gone, as an ERROR event or as the HTTP status', async () => {
    const cluster = new FakeCluster({ mcpservers: allMCPServers() });
    let watchRequests = 0;
    const { seen } = await watchFake(cluster, (request) => {
      if (request.path === MCPSERVERS_PATH && request.query.watch === 'true' && ++watchRequests === 2) {
        return { status: 410, body: tooOldResourceVersion(48212, 48213) };
      }
      return cluster.answer(request);
    });
    await until(() => cluster.mcpservers.watches.size === 1, 'the watch');
    cluster.expireHistory();
    await until(() => seen.filter((line) => line === 'synced 4').length === 3, 'two relists');
    expect(seen).toEqual(['synced 4', 'restarted expired', 'synced 4', 'restarted expired', 'synced 4']);
  });

  it('retries a list that fails, with backoff, and says why', async () => {
    const cluster = new FakeCluster({ mcpservers: allMCPServers() });
    let lists = 0;
    const { seen } = await watchFake(cluster, (request) =>
      request.path === MCPSERVERS_PATH && request.query.watch === undefined && ++lists <= 2 ? { status: 403, body: fixture('status-403-mcpservers-cluster-scope') } : cluster.answer(request),
    );
    await until(() => seen.includes('synced 4'), 'the list');
    expect(seen).toEqual([
      'failed forbidden: the service account system:serviceaccount:muster:auditor may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)',
      'failed forbidden: the service account system:serviceaccount:muster:auditor may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)',
      'synced 4',
    ]);
  });

  it('stops at once, a watch in progress too', async () => {
    const cluster = new FakeCluster({ mcpservers: allMCPServers() });
    const { seen } = await watchFake(cluster);
    await until(() => cluster.mcpservers.watches.size === 1, 'the watch');
    await informer?.stop();
    cluster.apply(object('after-stop'));
    await settle(100);
    expect(seen).toEqual(['synced 4']);
    expect(cluster.mcpservers.watches.size).toBe(0);
  });
});
