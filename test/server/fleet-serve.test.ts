import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { kubectlLines } from '../admission/kubectl-output.js';
import { remote } from '../fixtures.js';
import { until } from '../audit/audit-harness.js';
import { startFakeApiServer, type FakeApiServer } from '../cluster/fake-api-server.js';
import { FakeCluster } from '../cluster/fake-cluster.js';
import { httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer } from './child-server.js';

/**
 * `serve --fleet` in a child process, as a pod runs it, against the in-process API server stand-in
 * (test/cluster/fake-api-server.ts, built from recorded list and watch answers): admission judges
 * each write against the other MCPServers of its namespace, kept from a watch, and never calls
 * the API server on the request path.
 */
/** A member of the kubernetes family; `named` gives it its name and namespace. */
const member = (instanceArg: string): Record<string, unknown> => remote({ family: { name: 'kubernetes', instanceArg } });
const named = (object: Record<string, unknown>, name: string, namespace = 'muster') => ({ ...object, metadata: { name, namespace } });

interface Rig {
  readonly cluster: FakeCluster;
  readonly api: FakeApiServer;
  readonly server: ChildServer;
  readonly ca: string;
  readonly folder: { path: string; remove(): void };
}

async function startRig(cluster: FakeCluster, flags: string[]): Promise<Rig> {
  const folder = temporaryDirectory('fleet-serve');
  const api = await startFakeApiServer(cluster.answer);
  const certDir = join(folder.path, 'certs');
  const server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certDir, '--kubeconfig', api.kubeconfig, '--shutdown-grace', '2', ...flags]);
  return { cluster, api, server, ca: readText(join(certDir, 'ca.crt')), folder };
}

async function stopRig(rig: Rig | undefined): Promise<void> {
  if (!rig) return;
  await rig.server.stop();
  await rig.api.close();
  rig.folder.remove();
}

async function admit(rig: Rig, object: unknown, oldObject?: unknown) {
  const review = admissionReview(object, oldObject === undefined ? {} : { operation: 'UPDATE', oldObject });
  const answer = await httpsCall(rig.server.port, { ca: rig.ca, body: JSON.stringify(review) });
  const { response } = JSON.parse(answer.body) as { response: Parameters<typeof kubectlLines>[0] & { uid: string } };
  const line = await rig.server.waitForLog((candidate) => candidate.event === 'admission' && candidate.uid === response.uid);
  return { response, line, kubectl: kubectlLines(response) };
}

describe('serve --fleet', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    rig = await startRig(new FakeCluster({ mcpservers: [{ ...named(member('management_cluster'), 'mcp-kubernetes-a'), metadata: { name: 'mcp-kubernetes-a', namespace: 'muster', uid: 'uid-a' } }] }), ['--fleet']);
    await rig.server.waitForLog((line) => line.event === 'fleet-synced', { timeoutMs: 10_000 });
  });
  afterAll(() => stopRig(rig));

  it('refuses the member that would split a family, naming the member it disagrees with, in kubectl terms', async () => {
    const { response, kubectl } = await admit(rig!, named(member('cluster'), 'mcp-kubernetes-b'));
    expect(response.allowed).toBe(false);
    expect(kubectl).toEqual([
      'The MCPServer "mcp-kubernetes-b" is invalid: spec.family.instanceArg: is cluster, but family kubernetes also has muster/mcp-kubernetes-a (management_cluster): Muster then gives up the family\'s shared tool names and prefixes every member\'s tools per server, so the tool names of the whole family change under whatever calls them: use one instanceArg across the family [family-consistency]',
    ]);
  });

  it('admits a member that agrees, and one in another namespace (another Muster)', async () => {
    expect((await admit(rig!, named(member('management_cluster'), 'mcp-kubernetes-b'))).response.allowed).toBe(true);
    expect((await admit(rig!, named(member('cluster'), 'mcp-kubernetes-b', 'other'))).response.allowed).toBe(true);
  });

  it('judges an UPDATE against the others, not against its own stored version', async () => {
    const stored = named(member('management_cluster'), 'mcp-kubernetes-a');
    const { response } = await admit(rig!, { ...stored, metadata: { ...stored.metadata, labels: { team: 'platform' } } }, stored);
    expect(response.allowed).toBe(true);
  });

  it('follows the watch: a member added in the cluster is in view for the next write', async () => {
    rig!.cluster.apply({ ...named(remote({ toolPrefix: 'github' }), 'github-enterprise'), metadata: { name: 'github-enterprise', namespace: 'muster' } });
    await until(async () => !(await admit(rig!, named(remote(), 'github'))).response.allowed, 'the new server to be in view', 10_000);
    const { kubectl } = await admit(rig!, named(remote(), 'github'));
    expect(kubectl[0]).toMatch(/^The MCPServer "github" is invalid: spec\.toolPrefix: is not set, so this server's tools take its name, github, like muster\/github-enterprise \(its toolPrefix\): .* \[tool-prefix-collision\]$/);
  });

  it('asks the API server nothing on the request path: one list and one watch of MCPServers, nothing else', () => {
    const paths = new Set(rig!.api.requests.map((request) => `${request.method} ${request.path}`));
    expect(paths).toEqual(new Set(['GET /apis/muster.giantswarm.io/v1alpha1/mcpservers']));
  });
});

describe('serve --fleet before its watch has synced', () => {
  let rig: Rig | undefined;
  beforeAll(async () => {
    const cluster = new FakeCluster({ mcpservers: [named(member('management_cluster'), 'mcp-kubernetes-a')] });
    // The API server answers every list of MCPServers with an error: the fleet view never syncs.
    cluster.failing = (request) => request.path.endsWith('/mcpservers');
    rig = await startRig(cluster, ['--fleet']);
  });
  afterAll(() => stopRig(rig));

  it('does not deny on a guess: the rules across objects do not run, and the decision log says so', async () => {
    const { response, line } = await admit(rig!, named(member('cluster'), 'mcp-kubernetes-b'));
    expect(response.allowed).toBe(true);
    expect(line.unchecked).toEqual(['family-consistency', 'tool-prefix-collision']);
    // The watch's failure is logged once, as the audit logs its own.
    await rig!.server.waitForLog((candidate) => candidate.event === 'audit-error' && String(candidate.msg).startsWith('fleet view (watch mcpservers)'));
  });
});

describe('serve --watch-secrets', () => {
  let rig: Rig | undefined;
  const exchange = (secret: string) =>
    named(
      remote({
        auth: {
          type: 'oauth',
          tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.grizzly.example.com/token', connectorId: 'cluster-a-dex', clientCredentialsSecretRef: { name: secret } },
        },
      }),
      'mcp-kubernetes-grizzly',
    );
  beforeAll(async () => {
    rig = await startRig(new FakeCluster({ secrets: ['muster/grizzly-credentials'] }), ['--watch-secrets']);
    await rig.server.waitForLog((line) => line.event === 'fleet-synced', { timeoutMs: 10_000 });
  });
  afterAll(() => stopRig(rig));

  it('warns about a Secret that does not exist, from the Secrets metadata alone', async () => {
    await until(async () => (await admit(rig!, exchange('missing'))).response.warnings?.length === 1, 'the Secrets to be in view', 10_000);
    expect((await admit(rig!, exchange('missing'))).kubectl).toEqual([
      'Warning: spec.auth.tokenExchange.clientCredentialsSecretRef.name: no such Secret: create it or fix [referenced-secret]',
    ]);
    expect((await admit(rig!, exchange('grizzly-credentials'))).kubectl).toEqual([]);
    // Every request for Secrets asked for metadata only; the stand-in refuses anything else.
    const secretRequests = rig!.api.requests.filter((request) => request.path === '/api/v1/secrets');
    expect(secretRequests.length).toBeGreaterThanOrEqual(2);
    for (const request of secretRequests) expect(request.accept).toMatch(/^application\/json;as=PartialObjectMetadata(List)?;g=meta\.k8s\.io;v=v1$/);
  });

  it('sees a Secret created later', async () => {
    rig!.cluster.createSecret('muster/late-credentials');
    await until(async () => (await admit(rig!, exchange('late-credentials'))).response.warnings === undefined, 'the new Secret', 10_000);
  });
});
