import { describe, expect, it } from 'vitest';
import { auditObjects, policyNeedsNamespaceLabels } from '../../src/audit/audit.js';
import { parsePolicy, Policy } from '../../src/engine/index.js';
import { remote } from '../fixtures.js';
import { allMCPServers } from '../cluster/fake-api-server.js';

const TIER_POLICY = parsePolicy(
  `namespaces:
  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}
    rules: {plaintext-url: deny}
`,
  'tier-policy.yaml',
);

describe('auditObjects', () => {
  it('judges objects as stored in the cluster, named by namespace and name, in the validate result contract', () => {
    const report = auditObjects(allMCPServers(), Policy.builtIn());
    expect(report.results.map((result) => [result.namespace, result.name, result.allowed, result.denials.map((d) => d.rule), result.warnings.map((w) => w.rule)])).toEqual([
      ['dev', 'plain-http', true, [], ['plaintext-url']],
      ['muster', 'atlassian', true, [], ['authorization-server-override']],
      ['muster', 'stdio-without-command', false, ['stdio-command-required'], []],
      ['prod', 'plain-http', true, [], ['plaintext-url']],
    ]);
    expect(report.results[2]).not.toHaveProperty('file');
    // Findings from the cluster have no line: there is no file to point into.
    expect(report.results[2]?.denials[0]).toEqual({
      rule: 'stdio-command-required',
      path: 'spec.command',
      message: expect.stringMatching(/^spec\.command: is required when spec\.type is stdio/),
    });
    expect(report.errors).toEqual([]);
    expect(report.summary).toEqual({ checked: 4, allowed: 3, denied: 1, withWarnings: 3, errors: 0 });
  });

  it('judges in the admission context, where an unresolved placeholder is denied rather than recorded', () => {
    const unresolved = remote({ headers: { Authorization: 'Bearer ${VENDOR_TOKEN}' } });
    const [result] = auditObjects([unresolved], Policy.builtIn()).results;
    expect(result?.denials.map((denial) => denial.rule)).toEqual(['header-unresolved-placeholder']);
  });

  it('lends namespace labels to the policy label selectors; a namespace without labels matches no selector', () => {
    const labels = new Map([
      ['prod', { 'muster.giantswarm.io/tier': 'production' }],
      ['dev', { 'muster.giantswarm.io/tier': 'development' }],
    ]);
    const denied = (report: ReturnType<typeof auditObjects>) => report.results.filter((result) => !result.allowed).map((result) => `${result.namespace}/${result.name}`);
    expect(denied(auditObjects(allMCPServers(), TIER_POLICY, labels))).toEqual(['muster/stdio-without-command', 'prod/plain-http']);
    expect(denied(auditObjects(allMCPServers(), TIER_POLICY))).toEqual(['muster/stdio-without-command']);
  });

  it('reports an object without a name or namespace with nulls, as validate does', () => {
    const [result] = auditObjects([{ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', spec: { type: 'stdio' } }], Policy.builtIn()).results;
    expect(result).toMatchObject({ name: null, namespace: null, allowed: false });
  });
});

describe('policyNeedsNamespaceLabels', () => {
  it('is true only for a policy with a namespace label selector', () => {
    expect(policyNeedsNamespaceLabels(TIER_POLICY)).toBe(true);
    expect(policyNeedsNamespaceLabels(Policy.builtIn())).toBe(false);
    expect(policyNeedsNamespaceLabels(parsePolicy('namespaces: [{names: [prod], rules: {plaintext-url: deny}}]\n', 'names.yaml'))).toBe(false);
  });
});
