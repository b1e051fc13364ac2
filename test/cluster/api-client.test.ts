import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ApiClient } from '../../src/cluster/api-client.js';
import { connect, EVENTS, isMissingObject, namespacedPath, POLICY_REPORTS, toClusterError, type ClusterConnection, type ClusterError } from '../../src/cluster/connection.js';
import { createClientCertificate } from '../../src/server/dev-certificates.js';
import { CURRENT, newAuthority, pemOf, serverPair } from '../server/test-certificates.js';
import { closedPort, fixture, startFakeApiServer, TOKEN, type Answer, type FakeApiServer, type FakeTls, type RecordedRequest } from './fake-api-server.js';

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A CA, a serving pair for 127.0.0.1 and a client certificate for `auditor`, all signed by that CA. */
let tls: FakeTls;
/** A serving pair from another CA, which the kubeconfig does not trust. */
let untrusted: FakeTls;
beforeAll(async () => {
  const authority = await newAuthority();
  const clientKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const client = await createClientCertificate({ commonName: 'auditor', organizations: [] }, createPublicKey(clientKey), authority, CURRENT);
  tls = { ...(await serverPair(authority)), ca: authority.certificate.toString(), client: { cert: client.toString(), key: pemOf(clientKey) } };
  untrusted = { ...tls, ...(await serverPair(await newAuthority())) };
});

async function serve(answer: (request: RecordedRequest) => Answer | undefined, options: { tls?: FakeTls } = {}): Promise<{ server: FakeApiServer; connection: ClusterConnection }> {
  server = await startFakeApiServer(answer, options);
  return { server, connection: connect({ kubeconfig: server.kubeconfig, env: {} }) };
}

const REPORTS = namespacedPath(POLICY_REPORTS, 'muster');
const REPORT = namespacedPath(POLICY_REPORTS, 'muster', 'mcpserver-webhook-1234');
const echo = (request: RecordedRequest): Answer => ({ status: request.method === 'POST' ? 201 : 200, body: request.body ?? { kind: 'Status', status: 'Success' } });

async function failure(promise: Promise<unknown>, connection: ClusterConnection): Promise<ClusterError> {
  const error: unknown = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeDefined();
  return toClusterError(error, { verb: 'create', resource: POLICY_REPORTS, namespace: 'muster' }, connection);
}

describe('ApiClient', () => {
  it('speaks JSON over TLS, trusting the kubeconfig CA and presenting its client certificate', async () => {
    const { server, connection } = await serve(echo, { tls });
    const api = new ApiClient(connection);
    const report = { apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'mcpserver-webhook-1234', namespace: 'muster' } };
    expect(await api.create(REPORTS, report)).toEqual(report);
    expect(await api.replace(REPORT, { ...report, metadata: { ...report.metadata, resourceVersion: '7' } })).toMatchObject({ metadata: { resourceVersion: '7' } });
    await api.get(REPORT);
    await api.jsonPatch(namespacedPath(EVENTS, 'muster', 'github.0f3a'), [{ op: 'replace', path: '/count', value: 2 }]);
    await api.delete(REPORT);
    expect(server.requests.map(({ method, path, contentType, clientCommonName }) => ({ method, path, contentType, clientCommonName }))).toEqual([
      { method: 'POST', path: '/apis/wgpolicyk8s.io/v1alpha2/namespaces/muster/policyreports', contentType: 'application/json', clientCommonName: 'auditor' },
      { method: 'PUT', path: '/apis/wgpolicyk8s.io/v1alpha2/namespaces/muster/policyreports/mcpserver-webhook-1234', contentType: 'application/json', clientCommonName: 'auditor' },
      { method: 'GET', path: '/apis/wgpolicyk8s.io/v1alpha2/namespaces/muster/policyreports/mcpserver-webhook-1234', clientCommonName: 'auditor' },
      { method: 'PATCH', path: '/api/v1/namespaces/muster/events/github.0f3a', contentType: 'application/json-patch+json', clientCommonName: 'auditor' },
      { method: 'DELETE', path: '/apis/wgpolicyk8s.io/v1alpha2/namespaces/muster/policyreports/mcpserver-webhook-1234', clientCommonName: 'auditor' },
    ]);
    expect(server.requests[3]?.body).toEqual([{ op: 'replace', path: '/count', value: 2 }]);
    expect(server.requests.every((request) => request.accept === 'application/json')).toBe(true);
  });

  it('keeps its connections: a thousand writes, sixteen at a time, from two clients of one connection, open at most a pool of them', async () => {
    const { server, connection } = await serve(echo, { tls });
    const clients = [new ApiClient(connection), new ApiClient(connection)];
    for (let round = 0; round < 1000 / 16; round += 1) {
      await Promise.all(Array.from({ length: 16 }, (_, index) => clients[index % 2]!.create(REPORTS, { round, index })));
    }
    expect(server.requests).toHaveLength(1008);
    // Without a shared kept-alive pool every request would make a connection and a TLS handshake.
    expect(server.connections()).toBeLessThanOrEqual(16);
  });

  it('sends the bearer token of the kubeconfig', async () => {
    const { server, connection } = await serve(echo);
    await new ApiClient(connection).get(REPORT);
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('keeps the path of a server URL that has one', async () => {
    const { server } = await serve(echo);
    const connection = connect({ kubeconfig: server.kubeconfig, env: {} });
    const prefixed = { ...connection, server: `${server.url}/k8s/clusters/c-1` };
    await new ApiClient(prefixed).get(REPORT);
    expect(server.requests[0]?.path).toBe(`/k8s/clusters/c-1${REPORT}`);
  });

  it("rejects an answer other than 2xx as client-node does, so that the API server's reasons are explained the same way", async () => {
    const answers: Record<string, Answer> = {
      [`${REPORT}-gone`]: { status: 404, body: fixture('status-404-lease-not-found') },
      [`${REPORT}-conflict`]: { status: 409, body: fixture('status-409-event-already-exists') },
      [`${REPORT}-large`]: { status: 413, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 } },
      [`${REPORT}-forbidden`]: { status: 403, body: fixture('status-403-mcpservers-namespace') },
    };
    const { connection } = await serve((request) => answers[request.path]);
    const api = new ApiClient(connection);
    const gone: unknown = await api.get(`${REPORT}-gone`).catch((error: unknown) => error);
    expect(isMissingObject(gone)).toBe(true);
    expect((await failure(api.get(`${REPORT}-conflict`), connection)).kind).toBe('conflict');
    const large = await failure(api.replace(`${REPORT}-large`, {}), connection);
    expect(large.kind).toBe('too-large');
    expect(large.message).toContain('Request entity too large: limit is 3145728');
    expect((await failure(api.delete(`${REPORT}-forbidden`), connection)).kind).toBe('forbidden');
    // A 404 that names no object: the resource is not served (the CRD is not installed).
    const unserved = await failure(api.get('/apis/wgpolicyk8s.io/v1alpha2/namespaces/muster/nothing'), connection);
    expect(unserved).toMatchObject({ kind: 'not-found' });
  });

  it('explains a server it cannot reach, and one whose certificate the kubeconfig does not trust, as unreachable', async () => {
    const url = `https://127.0.0.1:${await closedPort()}`;
    const { server } = await serve(echo, { tls: untrusted });
    const distrusting = connect({ kubeconfig: server.kubeconfig, env: {} });
    // The same kubeconfig (and CA), pointed at a port where nothing listens.
    const nowhere = { ...distrusting, server: url };
    const refused = await failure(new ApiClient(nowhere).get(REPORT), nowhere);
    expect(refused.kind).toBe('unreachable');
    expect(refused.message).toMatch(new RegExp(`^cannot connect to the Kubernetes API server at ${url}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+$`));
    const distrusted = await failure(new ApiClient(distrusting).get(REPORT), distrusting);
    expect(distrusted.kind).toBe('unreachable');
    expect(distrusted.message).toMatch(/certificate/);
    expect(server.requests).toHaveLength(0);
  });
});
