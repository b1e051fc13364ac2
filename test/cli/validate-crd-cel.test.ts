import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from '../fixtures.js';
import { runCli, workspace } from './run-cli.js';

type Node = Record<string, unknown> & { properties?: Record<string, Node> };
interface Crd {
  spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
}

/**
 * The upstream CRD as a newer Muster might ship it: one CEL rule more on the object, which no rule
 * of this project knows, and one calling a Kubernetes CEL library function this checker lacks.
 */
function crdWithNewCelRules(): Crd {
  const crd = load(readFileSync(repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml'), 'utf8')) as Crd;
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
  root['x-kubernetes-validations'] = [
    ...(root['x-kubernetes-validations'] as unknown[]),
    { rule: "self.spec.type != 'sse'", message: 'sse is deprecated, use streamable-http' },
    { rule: "!has(self.spec.url) || isURL(self.spec.url)", message: 'url must be a URL' },
  ];
  return crd;
}

const sseServer = `apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: legacy
  namespace: muster
spec:
  type: sse
  url: https://mcp.example.com/sse
`;

describe("validate runs the CEL rules of the CRD in use", () => {
  it("reports a newer CRD's new CEL rule given with --crd, in the API server's words, and names the rule it cannot evaluate", async () => {
    const dir = workspace({ 'server.yaml': sseServer, 'crd.yaml': dump(crdWithNewCelRules()) });
    const bundled = await runCli(['validate', join(dir, 'server.yaml')]);
    expect(bundled.status, bundled.stdout).toBe(0);

    const run = await runCli(['validate', '--crd', join(dir, 'crd.yaml'), join(dir, 'server.yaml')]);
    expect(run.status, run.stderr).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines).toContain(`${join(dir, 'server.yaml')}:1: muster/legacy: Invalid value: "object": sse is deprecated, use streamable-http [crd-cel-rule]`);
    expect(lines).toContain(
      `${join(dir, 'server.yaml')}:1: muster/legacy: the CRD rule "url must be a URL" (!has(self.spec.url) || isURL(self.spec.url)) is not checked here: this checker lacks the CEL function isURL; the API server checks it [crd-cel-unchecked] (warning)`,
    );
    expect(run.stderr).toBe('');
  });

  it('takes the CEL rules of a CRD among its inputs too, and lists them in the JSON output', async () => {
    const dir = workspace({ 'apps/server.yaml': sseServer, 'vendor/crds/mcpservers.yaml': dump(crdWithNewCelRules()) });
    const run = await runCli(['validate', '-o', 'json', dir]);
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { results: { denials: { rule: string; path: string; message: string }[] }[] };
    expect(report.results.flatMap((result) => result.denials)).toEqual([
      expect.objectContaining({ rule: 'crd-cel-rule', path: '', message: 'Invalid value: "object": sse is deprecated, use streamable-http' }),
    ]);
  });
});
