import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlLines } from '../admission/kubectl-output.js';
import { templateDocuments, templateText } from '../charts/chart-files.js';
import { remote } from '../fixtures.js';
import { adminClients, createNamespace, createObject, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath, serviceAccount, writeKubeconfig } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { request, type KubeAnswer } from './kube-http.js';
import { temporaryFolder } from './processes.js';
import { registerWebhook, startWebhook, untilWebhookCalled, webhookCa } from './webhook.js';
import type { ChildServer } from '../server/child-server.js';

/**
 * `serve --fleet --watch-secrets` against a real API server, as the chart runs it: a service
 * account bound to the chart's fleet ClusterRole (templates/rbac-fleet.yaml) and nothing else.
 * Admission judges each write against the other MCPServers of its namespace, from a watch, and
 * the Secrets' metadata: the real API server answers the PartialObjectMetadata requests.
 */
const NAMESPACE = 'muster';
const RELEASE_NAMESPACE = 'mcpserver-webhook';

let plane: ControlPlane;
let webhook: ChildServer;
const webhookFolder = temporaryFolder('webhook');

const named = (name: string, object: Record<string, unknown>): Record<string, unknown> => ({ ...object, metadata: { name, namespace: NAMESPACE } });
const member = (name: string, instanceArg: string) => named(name, remote({ family: { name: 'kubernetes', instanceArg } }));
const exchange = (name: string, secret: string) =>
  named(
    name,
    remote({
      auth: {
        type: 'oauth',
        tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.grizzly.example.com/token', connectorId: 'cluster-a-dex', clientCredentialsSecretRef: { name: secret } },
      },
    }),
  );

/** Creates an object as kubectl does (strict field validation), and returns what the client sees. */
function create(object: Record<string, unknown>): Promise<KubeAnswer> {
  return request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), { body: object, query: { fieldValidation: 'Strict' } });
}

/** kubectl's lines for the answer: its warnings, then the denial (as test/admission/kubectl-output.ts renders them). */
function kubectl(answer: KubeAnswer): string[] {
  const { warnings } = answer;
  const status = answer.status >= 300 ? answer.body : undefined;
  return kubectlLines({ uid: '', allowed: status === undefined, warnings, ...(status ? { status } : {}) });
}

beforeAll(async () => {
  plane = await startControlPlane();
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await createNamespace(clients, NAMESPACE);
  await createNamespace(clients, RELEASE_NAMESPACE);
  await clients.core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'grizzly-credentials' }, stringData: { 'client-id': 'muster', 'client-secret': 'do-not-log-me' } } });
  // The chart's fleet ClusterRole, as it is, bound to the webhook's service account.
  const account = await serviceAccount(clients, RELEASE_NAMESPACE, 'mcpserver-webhook');
  const [role] = templateDocuments(templateText('rbac-fleet.yaml'));
  await createObject(plane, '/apis/rbac.authorization.k8s.io/v1/clusterroles', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'mcpserver-webhook-fleet' }, rules: role?.rules });
  await createObject(plane, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'mcpserver-webhook-fleet' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'mcpserver-webhook-fleet' },
    subjects: [{ kind: 'ServiceAccount', name: 'mcpserver-webhook', namespace: RELEASE_NAMESPACE }],
  });
  await createObject(plane, mcpServerPath(NAMESPACE), member('mcp-kubernetes-alpha', 'management_cluster'));

  webhook = await startWebhook(webhookFolder.path, { args: ['--fleet', '--watch-secrets', '--kubeconfig', writeKubeconfig(plane, account)] });
  await webhook.waitForLog((line) => line.event === 'fleet-synced', { timeoutMs: 30_000 });
  await registerWebhook(clients, webhook.port, webhookCa(webhookFolder.path));
  await untilWebhookCalled(plane, webhook, NAMESPACE);
});

afterAll(async () => {
  await webhook?.stop();
  await plane?.stop();
  webhookFolder.remove();
});

describe('the fleet view against a real API server', () => {
  it('refuses the second member of a family that disagrees, naming both in kubectl terms', async () => {
    const answer = await create(member('mcp-kubernetes-beta', 'cluster'));
    expect(answer.status, answer.text).toBe(422);
    expect(kubectl(answer)).toEqual([
      'The MCPServer "mcp-kubernetes-beta" is invalid: spec.family.instanceArg: is cluster, but family kubernetes also has muster/mcp-kubernetes-alpha (management_cluster): Muster then gives up the family\'s shared tool names and prefixes every member\'s tools per server, so the tool names of the whole family change under whatever calls them: use one instanceArg across the family [family-consistency]',
    ]);
    expect(String(answer.body.message)).toContain('muster/mcp-kubernetes-alpha');
  });

  it('admits a member that agrees, and sees it for the next write', async () => {
    expect((await create(member('mcp-kubernetes-gamma', 'management_cluster'))).status).toBe(201);
    // The gamma member is in view once the watch brings it: a server named after the family collides with it.
    await expect
      .poll(async () => kubectl(await request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), { body: named('kubernetes', remote()), query: { dryRun: 'All' } })).at(-1), { timeout: 10_000 })
      .toMatch(/spec\.toolPrefix: is not set, so this server's tools take its name, kubernetes, like muster\/mcp-kubernetes-alpha \(its family\) and muster\/mcp-kubernetes-gamma \(its family\): .* \[tool-prefix-collision\]$/);
  });

  it("warns about a token exchange whose Secret does not exist, from the Secrets' metadata", async () => {
    const missing = await create(exchange('exchange-missing', 'missing-credentials'));
    expect(missing.status, missing.text).toBe(201);
    expect(kubectl(missing)).toEqual(['Warning: spec.auth.tokenExchange.clientCredentialsSecretRef.name: no such Secret: create it or fix [referenced-secret]']);
    const present = await create(exchange('exchange-present', 'grizzly-credentials'));
    expect(present.status, present.text).toBe(201);
    expect(kubectl(present)).toEqual([]);
  });

  it('never logs the Secret data it was never sent', () => {
    expect(webhook.stdout()).not.toContain('do-not-log-me');
    expect(webhook.logs().filter((line) => line.event === 'audit-error')).toEqual([]);
  });
});
