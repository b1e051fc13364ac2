import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from '../fixtures.js';
import { runCli, workspace } from './run-cli.js';

interface SchemaNode {
  type?: string;
  pattern?: string;
  maximum?: number;
  properties?: Record<string, SchemaNode>;
}
interface Crd {
  spec: { versions: { name: string; schema: { openAPIV3Schema: SchemaNode } }[] };
}

const upstream = (): Crd => load(readFileSync(repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml'), 'utf8')) as Crd;
/** The node at a path of property names under the spec's schema. */
const at = (crd: Crd, ...names: string[]): SchemaNode =>
  names.reduce<SchemaNode>((node, name) => node.properties![name]!, crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!);

/** The upstream CRD as a newer Muster has it (upstream PR #1144): authorizationServer.tokenEndpoint, and a longer timeout. */
function newerCrd(): Crd {
  const crd = upstream();
  at(crd, 'auth', 'authorizationServer').properties!.tokenEndpoint = { type: 'string', pattern: '^https://' };
  at(crd, 'timeout').maximum = 600;
  return crd;
}

/** A tighter one, as a platform team might run: at most two minutes. */
function stricterCrd(): Crd {
  const crd = upstream();
  at(crd, 'timeout').maximum = 120;
  return crd;
}

const manifest = `apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: atlassian
  namespace: muster
spec:
  type: streamable-http
  url: https://mcp.atlassian.com/v1/sse
  timeout: 400
  auth:
    type: oauth
    authorizationServer:
      issuer: https://auth.atlassian.com
      tokenEndpoint: https://auth.atlassian.com/oauth/token
`;


describe('validate against the CRD a cluster runs', () => {
  it('refuses fields and values the bundled upstream CRD does not have', async () => {
    const dir = workspace({ 'server.yaml': manifest });
    const run = await runCli(['validate', join(dir, 'server.yaml')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('spec.auth.authorizationServer.tokenEndpoint: is not a field of MCPServer');
    expect(run.stdout).toContain('spec.timeout: must be at most 300 [schema-violation]');
  });

  it('takes the field set and limits from --crd, in YAML or JSON, and says so; our own rules stay on top', async () => {
    for (const [name, text] of [
      ['crd.yaml', `# a chart's CRD file may hold other documents first\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: muster}\n---\n${dump(newerCrd())}`],
      ['crd.json', JSON.stringify(newerCrd())],
    ] as const) {
      const dir = workspace({ 'server.yaml': manifest, [name]: text });
      const run = await runCli(['validate', '--crd', join(dir, name), join(dir, 'server.yaml')]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain(`checked against the MCPServer CRD in ${join(dir, name)}`);
      // authorization-server-override is ours, not the CRD's: it still speaks.
      expect(run.stdout).toContain('[authorization-server-override] (warning)');
    }
  });

  it('applies a stricter CRD too', async () => {
    const dir = workspace({ 'server.yaml': manifest, 'crd.yaml': dump(newerCrd()), 'strict.yaml': dump(stricterCrd()) });
    const run = await runCli(['validate', '-o', 'json', '--crd', join(dir, 'strict.yaml'), join(dir, 'server.yaml')]);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as { results: { denials: { path: string; message: string }[] }[]; summary: { schema: string } };
    expect(report.results[0]?.denials).toContainEqual(expect.objectContaining({ path: 'spec.timeout', message: 'spec.timeout: must be at most 120' }));
    expect(report.summary.schema).toBe(join(dir, 'strict.yaml'));
  });

  it('uses the MCPServer CRD among its inputs, as a GitOps repository that vendors Muster chart has it', async () => {
    const dir = workspace({ 'apps/server.yaml': manifest, 'vendor/muster/crds/mcpservers.yaml': dump(newerCrd()) });
    const run = await runCli(['validate', dir]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`checked against the MCPServer CRD in ${join(dir, 'vendor/muster/crds/mcpservers.yaml')}`);
  });

  it('refuses two different MCPServer CRDs among its inputs, naming both, and --crd settles it', async () => {
    const dir = workspace({ 'server.yaml': manifest, 'a/crd.yaml': dump(newerCrd()), 'b/crd.yaml': dump(stricterCrd()) });
    const run = await runCli(['validate', dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      `mcpserver-webhook validate: the inputs hold two different mcpservers.muster.giantswarm.io CRDs (${join(dir, 'a/crd.yaml')}:1 and ${join(dir, 'b/crd.yaml')}:1): name the one the cluster runs with --crd\n`,
    );
    expect((await runCli(['validate', '--crd', join(dir, 'a/crd.yaml'), dir])).status).toBe(0);
  });

  it('says in one line what is wrong with a --crd file', async () => {
    const withoutV1alpha1 = upstream();
    withoutV1alpha1.spec.versions[0]!.name = 'v1beta1';
    const brokenPattern = upstream();
    at(brokenPattern, 'toolPrefix').pattern = '([a-z';
    const dir = workspace({
      'server.yaml': manifest,
      'other.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n',
      'v1beta1.yaml': dump(withoutV1alpha1),
      'pattern.yaml': dump(brokenPattern),
      'syntax.yaml': 'kind: CustomResourceDefinition\nmetadata: {name: "mcpservers.muster.giantswarm.io\n',
    });
    const cases = [
      ['missing.yaml', `cannot read --crd file ${join(dir, 'missing.yaml')}: ENOENT`],
      ['other.yaml', `--crd file ${join(dir, 'other.yaml')} holds no CustomResourceDefinition named mcpservers.muster.giantswarm.io`],
      ['v1beta1.yaml', `${join(dir, 'v1beta1.yaml')}:1: the mcpservers.muster.giantswarm.io CRD cannot be used: the CRD has no version v1alpha1: this webhook checks muster.giantswarm.io/v1alpha1`],
      ['pattern.yaml', `${join(dir, 'pattern.yaml')}:1: the mcpservers.muster.giantswarm.io CRD cannot be used: the pattern of spec.toolPrefix is not a regular expression this checker can use`],
      ['syntax.yaml', `${join(dir, 'syntax.yaml')}:`],
    ] as const;
    for (const [file, message] of cases) {
      const run = await runCli(['validate', '--crd', join(dir, file), join(dir, 'server.yaml')]);
      expect(run.status, file).toBe(2);
      expect(run.stderr, file).toContain(`mcpserver-webhook validate: ${message}`);
      expect(run.stderr.split('\n').filter(Boolean), file).toHaveLength(1);
    }
  });
});
