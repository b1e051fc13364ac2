import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/engine/index.js';
import { runCli, workspace } from './run-cli.js';

type Document = { apiVersion: string; kind: string; metadata: { name: string }; spec: Record<string, unknown> };
const documentsOf = (text: string): Document[] => (loadAll(text) as (Document | null)[]).filter((document): document is Document => document !== null);

describe('mcpserver-webhook vap', () => {
  it('prints a policy and a binding per action of the built-in policy, and names every rule it leaves to the webhook, with the reason', async () => {
    const run = await runCli(['vap']);
    expect(run.status, run.stderr).toBe(0);
    const documents = documentsOf(run.stdout);
    expect(documents.map((document) => `${document.apiVersion} ${document.kind} ${document.metadata.name}`)).toEqual([
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy mcpserver-webhook-deny',
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding mcpserver-webhook-deny',
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy mcpserver-webhook-warn',
      'admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding mcpserver-webhook-warn',
    ]);
    expect(documents.filter((document) => document.kind.endsWith('Binding')).map((binding) => binding.spec.validationActions)).toEqual([['Deny'], ['Warn']]);
    const enforced = /^# Enforced by the API server: (.*)\.$/m.exec(run.stdout)?.[1]?.split(', ') ?? [];
    const left = [...run.stdout.matchAll(/^# {3}([a-z0-9-]+) {2,}\S.*$/gm)].map((match) => match[1]);
    // Every rule is in exactly one of the two lists.
    expect([...enforced, ...left].sort()).toEqual(RULES.map((rule) => rule.id).sort());
    expect(left).toEqual(expect.arrayContaining(['family-consistency', 'tool-prefix-collision', 'referenced-secret', 'schema-violation']));
    const messages = documents.flatMap((document) => (document.spec.validations as { messageExpression: string }[] | undefined) ?? []).map((validation) => validation.messageExpression);
    for (const message of messages) expect(message).toMatch(/ \[[a-z0-9-]+\]'$/);
  });

  it('compiles a policy file: an action changed to audit gets its own policy bound with Audit, a rule turned off is left out', async () => {
    const dir = workspace({ 'policy.yaml': 'rules:\n  plaintext-url: off\n  env-ignored-for-remote: audit\n  args-stdio-only: off\n' });
    const run = await runCli(['vap', '--policy', join(dir, 'policy.yaml'), '--api-version', 'v1beta1', '--name', 'muster-guard']);
    expect(run.status, run.stderr).toBe(0);
    const documents = documentsOf(run.stdout);
    expect(new Set(documents.map((document) => document.apiVersion))).toEqual(new Set(['admissionregistration.k8s.io/v1beta1']));
    const audit = documents.find((document) => document.metadata.name === 'muster-guard-audit' && document.kind === 'ValidatingAdmissionPolicy');
    expect(JSON.stringify(audit?.spec.validations)).toContain('[env-ignored-for-remote]');
    expect(run.stdout).not.toContain('[args-stdio-only]');
    expect(run.stdout).toContain(`from the ${join(dir, 'policy.yaml')} policy`);
  });

  it('says in one line what is wrong with its arguments or the policy file', async () => {
    const dir = workspace({ 'bad.yaml': 'rules:\n  no-such-rule: deny\n' });
    for (const args of [['--api-version', 'v1alpha1'], ['--name', 'Bad_Name'], ['--policy', join(dir, 'bad.yaml')], ['--policy', join(dir, 'missing.yaml')], ['extra']]) {
      const run = await runCli(['vap', ...args]);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
