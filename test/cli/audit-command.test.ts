import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allMCPServers,
  closedPort,
  fixture,
  MCPSERVERS_PATH,
  NAMESPACES_PATH,
  pagedMCPServers,
  startFakeApiServer,
  writeKubeconfig,
  type Answer,
  type FakeApiServer,
  type RecordedRequest,
} from '../cluster/fake-api-server.js';
import { FakeCluster, statusBody } from '../cluster/fake-cluster.js';
import { runCli, type CliRun } from './run-cli.js';

interface Finding {
  rule: string;
  path: string;
  message: string;
  line?: number;
}
interface JsonReport {
  results: { file?: string; index?: number; name: string | null; namespace: string | null; allowed: boolean; denials: Finding[]; warnings: Finding[]; audits: Finding[] }[];
  errors: unknown[];
  summary: Record<string, number>;
}

const NAMESPACED_PATH = /^\/apis\/muster\.giantswarm\.io\/v1alpha1\/namespaces\/([^/]+)\/mcpservers$/;
const TIER_POLICY = `namespaces:
  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}
    rules: {plaintext-url: deny}
`;

/** A cluster holding the fixture MCPServers (in two pages) and namespaces. */
function cluster(request: RecordedRequest): Answer | undefined {
  const namespace = NAMESPACED_PATH.exec(request.path)?.[1];
  if (namespace) {
    const items = allMCPServers().filter((item) => (item as { metadata: { namespace: string } }).metadata.namespace === namespace);
    return { status: 200, body: { ...fixture('mcpserver-list-page-2'), items } };
  }
  if (request.path === NAMESPACES_PATH) return { status: 200, body: fixture('namespace-list') };
  return pagedMCPServers(request);
}

let server: FakeApiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Runs `audit` against a fake API server; never lets the real ~/.kube/config or a pod's service account in. */
async function audit(args: readonly string[], answer: (request: RecordedRequest) => Answer | undefined = cluster): Promise<CliRun & { requests: RecordedRequest[] }> {
  await server?.close();
  server = await startFakeApiServer(answer);
  const run = await runCli(['audit', '--kubeconfig', server.kubeconfig, ...args], { env: isolatedEnv(server.kubeconfig, server.dir) });
  return { ...run, requests: server.requests };
}

function isolatedEnv(kubeconfig: string, home: string): NodeJS.ProcessEnv {
  return { KUBECONFIG: kubeconfig, HOME: home, KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' };
}

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mcpserver-webhook-audit-policy-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

/** Exit 2, one line on standard error, nothing on standard output, no stack trace. */
function expectOneLineFailure(run: CliRun, message: string): void {
  expect(run.status).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toBe(`mcpserver-webhook audit: ${message}\n`);
}

describe('mcpserver-webhook audit', () => {
  it('is listed in the help, and has its own', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/^ {2}audit +check the MCPServers already in the cluster/m);
    const help = await runCli(['audit', '--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--namespace NS', '--selector QUERY', '--output FORMAT', '--policy FILE', '--kubeconfig FILE', '--context NAME']) expect(help.stdout).toContain(flag);
  });

  it('audits all namespaces across pages, prints namespace/name: path: message [rule] and a summary, and exits 1 when something is denied', async () => {
    const run = await audit([]);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.map((line) => line.replace(/: .*(\[[a-z-]+\]( \(warning\))?)$/, ' $1'))).toEqual([
      'dev/plain-http [plaintext-url] (warning)',
      'muster/atlassian [authorization-server-override] (warning)',
      'muster/stdio-without-command [stdio-command-required]',
      'prod/plain-http [plaintext-url] (warning)',
      '4 MCPServers checked: 1 denied, 3 allowed (3 with warnings)',
    ]);
    expect(lines[2]).toMatch(/^muster\/stdio-without-command: spec\.command: is required when spec\.type is stdio/);
    expect(run.requests.map((request) => [request.path, request.query.continue === undefined ? 'first page' : 'next page'])).toEqual([
      [MCPSERVERS_PATH, 'first page'],
      [MCPSERVERS_PATH, 'next page'],
    ]);
  });

  it('prints --output json in the result contract of validate --output json, with namespace and name instead of file and index', async () => {
    const run = await audit(['-o', 'json']);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.summary).toEqual({ checked: 4, allowed: 3, denied: 1, withWarnings: 3, errors: 0 });
    expect(report.errors).toEqual([]);
    for (const result of report.results) expect(Object.keys(result)).toEqual(['name', 'namespace', 'allowed', 'denials', 'warnings', 'audits']);

    // The same objects as files, through validate in the admission context: the same verdicts.
    const dir = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-audit-contract-'));
    writeFileSync(join(dir, 'objects.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: allMCPServers() }));
    const validated = JSON.parse((await runCli(['validate', '--context', 'admission', '-o', 'json', 'objects.json'], { cwd: dir })).stdout) as JsonReport;
    const withoutLocation = validated.results.map(({ file: _file, index: _index, item: _item, ...result }: JsonReport['results'][number] & { item?: number }) => ({
      ...result,
      denials: result.denials.map(({ line: _line, ...finding }) => finding),
      warnings: result.warnings.map(({ line: _line, ...finding }) => finding),
      audits: result.audits.map(({ line: _line, ...finding }) => finding),
    }));
    expect(report.results).toEqual(withoutLocation);
  });

  it('lists one namespace with --namespace, at the namespaced path, and exits 0 when nothing there is denied', async () => {
    const run = await audit(['--namespace', 'dev']);
    expect(run.status).toBe(0);
    expect(run.requests.map((request) => request.path)).toEqual(['/apis/muster.giantswarm.io/v1alpha1/namespaces/dev/mcpservers']);
    expect(run.stdout).toMatch(/^dev\/plain-http: spec\.url: .* \[plaintext-url\] \(warning\)\n1 MCPServer checked: 0 denied, 1 allowed \(1 with warnings\)\n$/);
  });

  it('passes -l to the API server as the label selector', async () => {
    const run = await audit(['-l', 'team=search,tier!=dev'], (request) =>
      request.path === MCPSERVERS_PATH ? { status: 200, body: { ...fixture('mcpserver-list-page-2'), items: [] } } : undefined,
    );
    expect(run.status).toBe(0);
    expect(run.requests.map((request) => request.query)).toEqual([{ labelSelector: 'team=search,tier!=dev', limit: '500' }]);
    expect(run.stdout).toBe('0 MCPServers checked: 0 denied, 0 allowed\n');
  });

  it('reads namespace labels only for a policy with label selectors, and applies them', async () => {
    const plain = await audit(['--policy', policyFile('rules: {plaintext-url: warn}\n')]);
    expect(plain.requests.some((request) => request.path === NAMESPACES_PATH)).toBe(false);

    const tiered = await audit(['--policy', policyFile(TIER_POLICY)]);
    expect(tiered.status).toBe(1);
    expect(tiered.requests.filter((request) => request.path === NAMESPACES_PATH).map((request) => request.query)).toEqual([{ limit: '500' }]);
    expect(tiered.stdout).toMatch(/^prod\/plain-http: spec\.url: .* \[plaintext-url\]$/m);
    expect(tiered.stdout).toMatch(/^dev\/plain-http: spec\.url: .* \[plaintext-url\] \(warning\)$/m);
    expect(tiered.stdout).toContain('4 MCPServers checked: 2 denied, 2 allowed');
  });

  it('asks for the labels of the one namespace audited', async () => {
    const run = await audit(['--policy', policyFile(TIER_POLICY), '-n', 'prod']);
    expect(run.status).toBe(1);
    expect(run.requests.find((request) => request.path === NAMESPACES_PATH)?.query).toEqual({ fieldSelector: 'metadata.name=prod', limit: '500' });
  });

  it('carries on without namespace labels when it may not list namespaces, and says so once', async () => {
    const run = await audit(['--policy', policyFile(TIER_POLICY)], (request) =>
      request.path === NAMESPACES_PATH ? { status: 403, body: fixture('status-403-namespaces') } : cluster(request),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      "mcpserver-webhook audit: warning: cannot read namespace labels (the service account system:serviceaccount:muster:auditor may not list namespaces at the cluster scope: grant list (RBAC)); the policy's entries with a label selector match no namespace in this audit\n",
    );
    expect(run.stdout).toMatch(/^prod\/plain-http: .* \(warning\)$/m);
  });

  it('exits 2 with one line naming the missing RBAC grant on 403', async () => {
    const run = await audit([], () => ({ status: 403, body: fixture('status-403-mcpservers-cluster-scope') }));
    expectOneLineFailure(run, 'the service account system:serviceaccount:muster:auditor may not list mcpservers.muster.giantswarm.io at the cluster scope: grant list (RBAC)');
  });

  it('exits 2 saying the CRD is not installed on 404', async () => {
    const missing = await audit([], () => undefined);
    expectOneLineFailure(
      missing,
      `the MCPServer CRD (mcpservers.muster.giantswarm.io) is not installed in this cluster: the API server at ${server?.url} does not serve muster.giantswarm.io/v1alpha1 mcpservers`,
    );
  });

  it('exits 2 saying the credentials were rejected on 401', async () => {
    const run = await audit([], () => ({ status: 401, body: fixture('status-401-unauthorized') }));
    expectOneLineFailure(
      run,
      `the Kubernetes API server at ${server?.url} rejected the credentials of user "fake-user" of context "fake" (401 Unauthorized): they are missing, wrong or expired; log in again or renew the token`,
    );
  });

  it('exits 2 naming the server URL and the network error when the API server is unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-audit-closed-'));
    const url = `http://127.0.0.1:${await closedPort()}`;
    const kubeconfig = writeKubeconfig(dir, url);
    const run = await runCli(['audit', '--kubeconfig', kubeconfig], { env: isolatedEnv(kubeconfig, dir) });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^mcpserver-webhook audit: cannot connect to the Kubernetes API server at ${url}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+\\n$`));
  });

  it('exits 2 saying where it looked when there is no kubeconfig, and how to point at one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-audit-home-'));
    const missing = join(home, 'missing.yaml');
    expectOneLineFailure(await runCli(['audit', '--kubeconfig', missing], { env: isolatedEnv(missing, home) }), `no kubeconfig at ${missing} (given with --kubeconfig): no such file`);
    expectOneLineFailure(
      await runCli(['audit'], { env: isolatedEnv(missing, home) }),
      `no kubeconfig found: the KUBECONFIG environment variable names ${missing}, and no such file exists; point KUBECONFIG or --kubeconfig FILE at one`,
    );
    const noDefault = await runCli(['audit'], { env: isolatedEnv('', home) });
    expect(noDefault.status).toBe(2);
    expect(noDefault.stderr).toMatch(
      new RegExp(`^mcpserver-webhook audit: no kubeconfig found: looked for ${join(home, '.kube', 'config')} and for a pod service account token at .*; point at one with --kubeconfig FILE or the KUBECONFIG environment variable\\n$`),
    );
  });

  it('exits 2 for a context the kubeconfig does not have', async () => {
    const run = await audit(['--context', 'staging']);
    expectOneLineFailure(run, `the kubeconfig ${server?.kubeconfig} has no context "staging" (its contexts: fake)`);
    expect(run.requests).toEqual([]);
  });

  it('exits 2 for usage errors, before connecting', async () => {
    for (const args of [['examples/'], ['-o', 'sarif'], ['--bogus'], ['--namespace=']]) {
      const run = await audit(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^mcpserver-webhook audit: [^\n]+\n$/);
      expect(run.requests, args.join(' ')).toEqual([]);
    }
  });
});

describe('mcpserver-webhook audit and the Secrets that token exchanges name', () => {
  const exchange = (name: string, secret: string) => ({
    apiVersion: 'muster.giantswarm.io/v1alpha1',
    kind: 'MCPServer',
    metadata: { name, namespace: 'muster', uid: `uid-${name}`, resourceVersion: '1' },
    spec: {
      type: 'streamable-http',
      url: 'https://mcp.example.com/mcp',
      auth: { type: 'oauth', tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.example.com/token', connectorId: 'a', clientCredentialsSecretRef: { name: secret } } },
    },
  });
  const withSecrets = (cluster: FakeCluster) => cluster.answer;

  it('checks them with --secrets, from their metadata alone, and says when it did not', async () => {
    const fake = new FakeCluster({ mcpservers: [exchange('present', 'credentials'), exchange('missing', 'no-such-secret')], secrets: ['muster/credentials'] });
    const checked = JSON.parse((await audit(['--secrets', '-o', 'json'], withSecrets(fake))).stdout) as JsonReport;
    expect(checked.results.map((result) => [result.name, result.warnings.map((finding) => finding.rule)])).toEqual([
      ['missing', ['referenced-secret']],
      ['present', []],
    ]);
    expect(checked.summary).not.toHaveProperty('unchecked');
    const accepts = server!.requests.filter((request) => request.path === '/api/v1/secrets').map((request) => request.accept);
    expect(accepts).toEqual(['application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1']);

    const unchecked = await audit([], withSecrets(fake));
    expect(unchecked.stdout.trimEnd().split('\n').at(-1)).toBe('2 MCPServers checked: 0 denied, 2 allowed; not checked: referenced-secret, for want of the Secrets (audit --secrets lists them; serve --watch-secrets watches them; files hold none)');
    expect(unchecked.requests.some((request) => request.path === '/api/v1/secrets')).toBe(false);
  });

  it('goes on without them when it may not list Secrets, and says so once', async () => {
    const fake = new FakeCluster({ mcpservers: [exchange('missing', 'no-such-secret')] });
    const run = await audit(['--secrets'], (request) =>
      request.path === '/api/v1/secrets' ? { status: 403, body: statusBody(403, 'Forbidden', 'secrets is forbidden: User "auditor" cannot list resource "secrets" in API group "" at the cluster scope') } : fake.answer(request),
    );
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^mcpserver-webhook audit: warning: cannot list Secrets \(.*\); referenced-secret is not checked in this audit\n$/);
    expect(run.stdout).toContain('not checked: referenced-secret, for want of the Secrets (audit --secrets');
  });
});
