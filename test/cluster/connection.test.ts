import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/cluster/api-client.js';
import {
  ClusterError,
  connect,
  isMissingObject,
  LEASES,
  listMCPServers,
  listNamespaceLabels,
  MCPSERVERS,
  PAGE_SIZE,
  POLICY_REPORTS,
  toClusterError,
  type ClusterConnection,
} from '../../src/cluster/connection.js';
import {
  allMCPServers,
  closedPort,
  fixture,
  MCPSERVERS_PATH,
  NAMESPACES_PATH,
  pagedMCPServers,
  startFakeApiServer,
  TOKEN,
  writeKubeconfig,
  type Answer,
  type FakeApiServer,
  type RecordedRequest,
} from './fake-api-server.js';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  vi.unstubAllEnvs();
});

async function serve(answer: (request: RecordedRequest) => Answer | undefined): Promise<{ server: FakeApiServer; connection: ClusterConnection }> {
  server = await startFakeApiServer(answer);
  return { server, connection: connect({ kubeconfig: server.kubeconfig, env: {} }) };
}

function emptyDir(): string {
  return mkdtempSync(join(tmpdir(), 'mcpserver-webhook-cluster-'));
}

async function clusterError(promise: Promise<unknown>): Promise<ClusterError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ClusterError);
  return error as ClusterError;
}

describe('connections', () => {
  it('are kept alive and shared by every request of a connection, as client-go shares one transport', async () => {
    const { server, connection } = await serve((request) => (request.path === MCPSERVERS_PATH ? { status: 200, body: fixture('mcpserver-list-page-2') } : undefined));
    for (let round = 0; round < 20; round += 1) await listMCPServers(connection);
    await Promise.all(Array.from({ length: 4 }, () => listNamespaceLabels(connection).catch(() => undefined)));
    expect(server.requests.length).toBeGreaterThanOrEqual(24);
    // A connection per request would be 24.
    expect(server.connections()).toBeLessThanOrEqual(5);
  });
});

describe('listMCPServers', () => {
  it('lists all namespaces page by page, following the continue token, with the bearer token', async () => {
    const { server, connection } = await serve(pagedMCPServers);
    const listed = await listMCPServers(connection);
    expect(listed.items).toEqual(allMCPServers());
    expect(listed.resourceVersion).toBe('48213');
    const token = (fixture('mcpserver-list-page-1').metadata as { continue: string }).continue;
    expect(server.requests).toEqual([
      { method: 'GET', path: MCPSERVERS_PATH, query: { limit: String(PAGE_SIZE) }, authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
      { method: 'GET', path: MCPSERVERS_PATH, query: { limit: String(PAGE_SIZE), continue: token }, authorization: `Bearer ${TOKEN}`, accept: 'application/json' },
    ]);
  });

  it('lists one namespace, with a label selector, at the namespaced path', async () => {
    const { server, connection } = await serve((request) =>
      request.path === '/apis/muster.giantswarm.io/v1alpha1/namespaces/muster/mcpservers' ? { status: 200, body: fixture('mcpserver-list-page-2') } : undefined,
    );
    const listed = await listMCPServers(connection, { namespace: 'muster', labelSelector: 'team=search,tier!=dev' });
    expect(listed.items).toHaveLength(2);
    expect(server.requests.map(({ path, query }) => ({ path, query }))).toEqual([
      { path: '/apis/muster.giantswarm.io/v1alpha1/namespaces/muster/mcpservers', query: { limit: '500', labelSelector: 'team=search,tier!=dev' } },
    ]);
  });

  it('starts one unpaged list when the continue token has expired (410), as client-go does', async () => {
    const { server, connection } = await serve((request) => {
      if (request.path !== MCPSERVERS_PATH) return undefined;
      if (request.query.continue) return { status: 410, body: fixture('status-410-expired') };
      if (request.query.limit) return { status: 200, body: fixture('mcpserver-list-page-1') };
      return { status: 200, body: { ...fixture('mcpserver-list-page-2'), items: allMCPServers() } };
    });
    expect((await listMCPServers(connection)).items).toEqual(allMCPServers());
    expect(server.requests.map((request) => request.query)).toEqual([{ limit: '500' }, { limit: '500', continue: expect.any(String) }, {}]);
  });

  it('explains 403 with who may not do what, where, and what to grant, from the Status body', async () => {
    const forbidden = { status: 403, body: fixture('status-403-mcpservers-cluster-scope') };
    const { connection } = await serve(() => forbidden);
    const error = await clusterError(listMCPServers(connection));
    expect(error.kind).toBe('forbidden');
    expect(error.message).toBe(
      'the service account system:serviceaccount:muster:auditor may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)',
    );
  });

  it('names the namespace and a user that is not a service account', async () => {
    const { connection } = await serve(() => ({ status: 403, body: fixture('status-403-mcpservers-namespace') }));
    expect((await clusterError(listMCPServers(connection, { namespace: 'muster' }))).message).toBe(
      'the user alice@example.com may not list mcpservers.muster.giantswarm.io in the namespace muster: grant list (RBAC)',
    );
  });

  it('does not advise granting RBAC to system:anonymous', async () => {
    const { connection } = await serve(() => ({ status: 403, body: fixture('status-403-anonymous') }));
    expect((await clusterError(listMCPServers(connection))).message).toBe(
      'the Kubernetes API server took the request as anonymous (system:anonymous), so it may not list mcpservers.muster.giantswarm.io at the cluster scope: give the kubeconfig credentials the server accepts',
    );
  });

  it('falls back to the request it made when a 403 has no Status body', async () => {
    const { connection } = await serve(() => ({ status: 403, body: 'forbidden' }));
    expect((await clusterError(listMCPServers(connection))).message).toBe(
      'the credentials in use may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)',
    );
  });

  it('says the CRD is not installed on 404, with a Status body or the older plain-text one', async () => {
    for (const body of [fixture('status-404-not-found'), '404 page not found\n']) {
      const { server, connection } = await serve(() => ({ status: 404, body }));
      const error = await clusterError(listMCPServers(connection));
      expect(error.kind).toBe('not-found');
      expect(error.message).toBe(
        `the MCPServer CRD (mcpservers.muster.giantswarm.io) is not installed in this cluster: the API server at ${server.url} does not serve muster.giantswarm.io/v1alpha1 mcpservers`,
      );
      await server.close();
    }
  });

  it('says the credentials were rejected on 401, naming the server and the kubeconfig user', async () => {
    const { server, connection } = await serve(() => ({ status: 401, body: fixture('status-401-unauthorized') }));
    const error = await clusterError(listMCPServers(connection));
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toBe(
      `the Kubernetes API server at ${server.url} rejected the credentials of user "fake-user" of context "fake" (401 Unauthorized): they are missing, wrong or expired; log in again or renew the token`,
    );
  });

  it('passes on any other answer with its code, reason and message', async () => {
    const badSelector = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'unable to parse requirement: found \'=\', expected: identifier',
      reason: 'BadRequest',
      code: 400,
    };
    const { server, connection } = await serve(() => ({ status: 400, body: badSelector }));
    const error = await clusterError(listMCPServers(connection, { labelSelector: '=x' }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe(
      `the Kubernetes API server at ${server.url} answered 400 BadRequest to list mcpservers.muster.giantswarm.io: unable to parse requirement: found '=', expected: identifier`,
    );
  });

  it('names the server URL and the network error code when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const connection = connect({ kubeconfig: writeKubeconfig(emptyDir(), url), env: {} });
    const error = await clusterError(listMCPServers(connection));
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(new RegExp(`^cannot connect to the Kubernetes API server at ${url}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`));
  });

  it('reports credentials that cannot be produced as a config error, without a request', async () => {
    const dir = emptyDir();
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, 'no-such-plugin')}}}}]\n`,
    );
    const error = await clusterError(listMCPServers(connect({ kubeconfig: file, env: {} })));
    expect(error.kind).toBe('config');
    expect(error.message).toMatch(/^cannot send a request to the Kubernetes API server at https:\/\/127\.0\.0\.1:1: /);
    expect(error.message).not.toContain('\n');
  });
});

describe('listNamespaceLabels', () => {
  it('maps every namespace to its labels', async () => {
    const { server, connection } = await serve((request) => (request.path === NAMESPACES_PATH ? { status: 200, body: fixture('namespace-list') } : undefined));
    const labels = await listNamespaceLabels(connection);
    expect([...labels.keys()]).toEqual(['dev', 'muster', 'prod']);
    expect(labels.get('prod')).toEqual({ 'kubernetes.io/metadata.name': 'prod', 'muster.giantswarm.io/tier': 'production' });
    expect(server.requests.map(({ path, query }) => ({ path, query }))).toEqual([{ path: NAMESPACES_PATH, query: { limit: '500' } }]);
  });

  it('asks for one namespace by field selector', async () => {
    const { server, connection } = await serve(() => ({ status: 200, body: fixture('namespace-list') }));
    await listNamespaceLabels(connection, 'prod');
    expect(server.requests[0]?.query).toEqual({ fieldSelector: 'metadata.name=prod', limit: '500' });
  });

  it('explains a forbidden namespace list in the core group', async () => {
    const { connection } = await serve(() => ({ status: 403, body: fixture('status-403-namespaces') }));
    const error = await clusterError(listNamespaceLabels(connection));
    expect(error.message).toBe('the service account system:serviceaccount:muster:auditor may not list namespaces at the cluster scope: grant list (RBAC)');
  });
});

describe('toClusterError for the continuous audit', () => {
  const connection = connect({ kubeconfig: writeKubeconfig(emptyDir(), 'https://10.0.0.1:6443'), env: {} });
  const answer = (code: number, name: string): ApiError => new ApiError(code, JSON.stringify(fixture(name)));

  it('tells a missing object (its 404 names it) from a resource that is not served', () => {
    const missing = answer(404, 'status-404-lease-not-found');
    expect(isMissingObject(missing)).toBe(true);
    expect(isMissingObject(answer(404, 'status-404-not-found'))).toBe(false);
    expect(toClusterError(missing, { verb: 'get', resource: LEASES, namespace: 'muster' }, connection).message).toBe(
      'the Lease muster/mcpserver-webhook-audit does not exist (404 from the API server at https://10.0.0.1:6443)',
    );
    expect(toClusterError(answer(404, 'status-404-not-found'), { verb: 'get', resource: POLICY_REPORTS, namespace: 'muster' }, connection).message).toBe(
      'the PolicyReport CRD (policyreports.wgpolicyk8s.io) is not installed in this cluster: the API server at https://10.0.0.1:6443 does not serve wgpolicyk8s.io/v1alpha2 policyreports',
    );
  });

  it('calls a 409 a conflict, and reads the status code of an answer without a Status body', () => {
    expect(toClusterError(answer(409, 'status-409-lease-conflict'), { verb: 'update', resource: LEASES, namespace: 'muster' }, connection)).toMatchObject({
      kind: 'conflict',
      message: expect.stringContaining('answered 409 Conflict to update leases.coordination.k8s.io: Operation cannot be fulfilled'),
    });
    const refusedWatch = new ApiError(403, '403 Forbidden');
    expect(toClusterError(refusedWatch, { verb: 'watch', resource: MCPSERVERS }, connection)).toMatchObject({ kind: 'forbidden' });
  });
});
