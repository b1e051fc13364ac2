import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditObjects } from '../../src/audit/audit.js';
import { formatJson } from '../../src/cli/output/json.js';
import { formatText } from '../../src/cli/output/text.js';
import { parsePolicy, Policy } from '../../src/engine/index.js';
import { runCli } from '../cli/run-cli.js';
import { eventually } from '../server/child-server.js';
import { adminClients, createNamespace, createObject, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath, serviceAccount, writeKubeconfig, type Clients } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { copyExamples, createExamples } from './audit-setup.js';
import { documentedYaml } from './documented.js';
import { request } from './kube-http.js';

/**
 * `mcpserver-webhook audit`, the CLI as a user runs it, with a kubeconfig file, against a real
 * API server: the identities it runs as get exactly the RBAC the README documents, or less, and
 * the API server's own 401, 403 and 404 answers come back as the documented one-line messages.
 */

/** A namespace with a label that a policy's selector picks, beside the examples' own. */
const NAMESPACES = { muster: {}, payments: { tier: 'prod' } } as const;
const SELECTOR_POLICY = `namespaces:
  - selector:
      matchLabels: { tier: prod }
    rules:
      plaintext-url: deny
`;

let plane: ControlPlane;
let clients: Clients;
const kubeconfigs: Record<string, string> = {};

beforeAll(async () => {
  plane = await startControlPlane();
  clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  for (const [name, labels] of Object.entries(NAMESPACES)) await createNamespace(clients, name, labels);
  await createExamples(plane, 'muster');
  await copyExamples(plane, 'payments', ['invalid/plaintext-url.yaml', 'invalid/header-syntax.yaml', 'atlassian.yaml']);

  // The README's RBAC for audit, as documented: a ClusterRole bound to the service account muster/auditor.
  for (const document of documentedYaml('RBAC')) {
    const collection = document.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings';
    await createObject(plane, `/apis/rbac.authorization.k8s.io/v1/${collection}`, document);
  }
  // Only the first of its rules: MCPServers, without namespaces.
  const [role] = documentedYaml('RBAC');
  await createObject(plane, '/apis/rbac.authorization.k8s.io/v1/clusterroles', { ...role, metadata: { name: 'mcpservers-only' }, rules: role?.rules.slice(0, 1) });
  await createObject(plane, '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'mcpservers-only' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'mcpservers-only' },
    subjects: [{ kind: 'ServiceAccount', name: 'lister', namespace: 'muster' }],
  });
  for (const name of ['auditor', 'lister', 'stranger']) kubeconfigs[name] = writeKubeconfig(plane, await serviceAccount(clients, 'muster', name));
  kubeconfigs.admin = writeKubeconfig(plane, plane.admin);
  kubeconfigs.wrong = writeKubeconfig(plane, { name: 'wrong', token: 'not-a-token-the-server-issued' });
  writeFileSync(join(plane.folder, 'selector-policy.yaml'), SELECTOR_POLICY);
});

afterAll(async () => {
  await plane?.stop();
});

const audit = (kubeconfig: string, ...args: string[]) => runCli(['audit', '--kubeconfig', kubeconfig, ...args]);

/** The MCPServers as the administrator lists them, in the API server's order (namespace, name). */
async function storedObjects(namespace?: string): Promise<unknown[]> {
  const path = namespace ? mcpServerPath(namespace) : '/apis/muster.giantswarm.io/v1alpha1/mcpservers';
  return (await request(endpoint(plane), 'GET', path)).body.items;
}

async function namespaceLabels(): Promise<Map<string, Record<string, string>>> {
  const list = (await request(endpoint(plane), 'GET', '/api/v1/namespaces')).body.items as { metadata: { name: string; labels?: Record<string, string> } }[];
  return new Map(list.map((namespace) => [namespace.metadata.name, namespace.metadata.labels ?? {}]));
}

describe('with the RBAC the README documents', () => {
  it('judges every MCPServer in the cluster as the project\'s code judges the stored objects (--output json)', async () => {
    const run = await audit(kubeconfigs.auditor as string, '--output', 'json');
    const expected = auditObjects(await storedObjects(), Policy.builtIn());
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(formatJson(expected));
    expect(expected.summary.checked).toBeGreaterThan(15);
    expect(run.status).toBe(expected.summary.denied > 0 ? 1 : 0);
  });

  it('audits one namespace in text (--namespace)', async () => {
    const run = await audit(kubeconfigs.auditor as string, '--namespace', 'payments');
    const expected = auditObjects(await storedObjects('payments'), Policy.builtIn());
    expect(run.stdout).toBe(formatText(expected, false));
    expect(run.stdout).toMatch(/^3 MCPServers checked/m);
    expect(run.status).toBe(1);
  });

  it('reads the namespaces\' labels for a policy with a label selector', async () => {
    const run = await audit(kubeconfigs.auditor as string, '--output', 'json', '--policy', join(plane.folder, 'selector-policy.yaml'));
    const expected = auditObjects(await storedObjects(), parsePolicy(SELECTOR_POLICY, 'selector-policy.yaml'), await namespaceLabels());
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(formatJson(expected));
    // The selector made plaintext-url a denial in payments, and only there.
    const plainHttp = JSON.parse(run.stdout).results.filter((result: { name: string }) => result.name === 'plain-http');
    expect(plainHttp.map((result: { namespace: string; allowed: boolean }) => [result.namespace, result.allowed])).toEqual([
      ['muster', true],
      ['payments', false],
    ]);
  });
});

describe('with less', () => {
  it('without the namespaces rule: audits all the same and says once that the labels could not be read', async () => {
    const run = await audit(kubeconfigs.lister as string, '--output', 'json', '--policy', join(plane.folder, 'selector-policy.yaml'));
    expect(run.stderr).toBe(
      'mcpserver-webhook audit: warning: cannot read namespace labels (the service account system:serviceaccount:muster:lister may not list namespaces at the cluster scope: grant list (RBAC)); the policy\'s entries with a label selector match no namespace in this audit\n',
    );
    expect(run.stdout).toBe(formatJson(auditObjects(await storedObjects(), parsePolicy(SELECTOR_POLICY, 'selector-policy.yaml'))));
  });

  it('without any binding: the API server\'s 403, as one line naming the identity and the verb', async () => {
    const everywhere = await audit(kubeconfigs.stranger as string);
    expect(everywhere.stderr).toBe(
      'mcpserver-webhook audit: the service account system:serviceaccount:muster:stranger may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)\n',
    );
    expect(everywhere.status).toBe(2);
    const oneNamespace = await audit(kubeconfigs.stranger as string, '--namespace', 'muster');
    expect(oneNamespace.stderr).toBe(
      'mcpserver-webhook audit: the service account system:serviceaccount:muster:stranger may not list mcpservers.muster.giantswarm.io in the namespace muster: grant list (RBAC)\n',
    );
    expect(oneNamespace.status).toBe(2);
  });

  it('with a token the API server did not issue: its 401', async () => {
    const run = await audit(kubeconfigs.wrong as string);
    expect(run.stderr).toBe(
      `mcpserver-webhook audit: the Kubernetes API server at ${plane.url} rejected the credentials of user "wrong" of context "e2e" (401 Unauthorized): they are missing, wrong or expired; log in again or renew the token\n`,
    );
    expect(run.status).toBe(2);
  });
});

describe('with a client certificate', () => {
  it('audits as the user the certificate names', async () => {
    const run = await audit(kubeconfigs.admin as string, '--output', 'json');
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(formatJson(auditObjects(await storedObjects(), Policy.builtIn())));
  });
});

describe('without the CRD', () => {
  it('says the CRD is not installed (the API server\'s 404 for a resource it does not serve)', async () => {
    await request(endpoint(plane), 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/mcpservers.muster.giantswarm.io');
    await eventually(async () => ((await request(endpoint(plane), 'GET', '/apis/muster.giantswarm.io/v1alpha1')).status === 404 ? true : undefined), 30_000);
    const run = await audit(kubeconfigs.admin as string);
    expect(run.stderr).toBe(
      `mcpserver-webhook audit: the MCPServer CRD (mcpservers.muster.giantswarm.io) is not installed in this cluster: the API server at ${plane.url} does not serve muster.giantswarm.io/v1alpha1 mcpservers\n`,
    );
    expect(run.status).toBe(2);
  });
});
