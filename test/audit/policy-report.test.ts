import { describe, expect, it } from 'vitest';
import {
  buildPolicyReport,
  MAX_RESULT_MESSAGE_LENGTH,
  objectOutcome,
  reportedUid,
  reportName,
  RESULTS_HASH_ANNOTATION,
  type AuditedObject,
} from '../../src/audit/policy-report.js';
import { Policy, RULES, rulesConcerning, validate } from '../../src/engine/index.js';
import { remote, stdio } from '../fixtures.js';

const policy = Policy.builtIn();
const ADMISSION_RULES = RULES.filter((rule) => rule.defaults.admission !== 'off').map((rule) => rule.id).sort();

function audited(object: Record<string, unknown>, failedRules: readonly string[] = []): AuditedObject {
  const { namespace } = object.metadata as { namespace: string };
  return {
    verdict: validate(object, { context: 'admission' }),
    actions: policy.actions('admission', { name: namespace }),
    concerned: rulesConcerning(object),
    failedRules: new Set(failedRules),
  };
}

const resultOf = (object: AuditedObject, rule: string) => buildPolicyReport({ uid: 'uid-1', name: 'n', namespace: 'muster' }, objectOutcome(object), 0).results.find((result) => result.rule === rule);

describe('objectOutcome', () => {
  it('reports a rule that failed to run as an error, not as a pass', () => {
    const rule = RULES.find((candidate) => !candidate.manifestOnly)!;
    expect(resultOf(audited(remote(), [rule.id]), rule.id)).toMatchObject({ result: 'error', scored: true, message: expect.stringContaining(`the rule ${rule.id} failed`) });
  });

  it('reports an object the engine denied without running the rules as one error, with no passes', () => {
    const unchecked = { rule: 'internal-error', path: '', message: 'the object could not be checked', summary: 'unchecked', action: 'deny', field: [] } as const;
    const object = { ...audited(remote()), verdict: { allowed: false, denials: [unchecked], warnings: [], audits: [], unchecked: [] } };
    const report = buildPolicyReport({ uid: 'uid-1', name: 'n', namespace: 'muster' }, objectOutcome(object), 0);
    expect(report.results).toEqual([expect.objectContaining({ rule: 'internal-error', result: 'error', message: 'the object could not be checked', scored: true })]);
  });

  it('joins the findings of one rule on several fields into one result, cut at a length that keeps a report small', () => {
    const syntax = resultOf(audited(remote({ headers: { 'Bad Name': 'x', 'Also Bad': 'y' } })), 'header-syntax');
    expect(syntax?.message?.split('; ')).toHaveLength(2);
    const many = Object.fromEntries(Array.from({ length: 200 }, (_, index) => [`Bad Name ${index}`, 'x']));
    const long = resultOf(audited(remote({ headers: many })), 'header-syntax');
    expect(long?.message?.length).toBeLessThanOrEqual(MAX_RESULT_MESSAGE_LENGTH);
    expect(long?.message).toMatch(/\.\.\.$|…$/);
  });

  it('has a result for the rules that concern the object, and for any other that found something in it', () => {
    const object = audited(remote({ url: 'http://example.com/mcp' }));
    const rules = (outcome: ReturnType<typeof objectOutcome>) => outcome.rules;
    expect(rules(objectOutcome({ ...object, concerned: ['header-syntax', 'stdio-command-required'] }))).toEqual(['header-syntax', 'plaintext-url', 'stdio-command-required']);
    // A rule the policy turns off has no result, whether it concerns the object or not.
    expect(rules(objectOutcome({ ...object, concerned: ['schema-violation'] }))).toEqual(['plaintext-url']);
  });

  it('has the same hash for the same verdict, another for another', () => {
    expect(objectOutcome(audited(stdio())).hash).toBe(objectOutcome(audited(stdio())).hash);
    expect(objectOutcome(audited(stdio())).hash).not.toBe(objectOutcome(audited(remote({ url: 'http://example.com/mcp' }))).hash);
  });
});

describe('buildPolicyReport', () => {
  const object = { uid: '9e4d2b7a-1c5f-4a8e-b3d0-6f2e8c1a7b54', name: 'tools', namespace: 'muster' };
  const tools = remote({ url: 'http://example.com/mcp', headers: { 'X-Team': 'search' } });
  const outcome = objectOutcome(audited(tools));
  const report = buildPolicyReport(object, outcome, 1_700_000_000);

  it('is one report per MCPServer: named by its uid, scoped to it, owned by it, with a result per rule, pass included', () => {
    expect(report.metadata).toEqual({
      name: `mcpserver-webhook-${object.uid}`,
      namespace: 'muster',
      labels: { 'app.kubernetes.io/managed-by': 'mcpserver-webhook' },
      annotations: { [RESULTS_HASH_ANNOTATION]: outcome.hash },
      ownerReferences: [{ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', name: 'tools', uid: object.uid }],
    });
    expect(report.scope).toEqual({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', name: 'tools', namespace: 'muster', uid: object.uid });
    const concerned = new Set(rulesConcerning(tools));
    expect(report.results.map((result) => result.rule)).toEqual(ADMISSION_RULES.filter((rule) => concerned.has(rule)));
    expect(report.results.find((result) => result.rule === 'plaintext-url')).toMatchObject({ result: 'warn', scored: true, timestamp: { seconds: 1_700_000_000, nanos: 0 } });
    expect(report.results.find((result) => result.rule === 'header-syntax')).toEqual({
      policy: 'mcpserver-webhook',
      rule: 'header-syntax',
      result: 'pass',
      source: 'mcpserver-webhook',
      scored: true,
      timestamp: { seconds: 1_700_000_000, nanos: 0 },
    });
  });

  it('has a summary that counts its results', () => {
    const counted = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
    for (const { result } of report.results) counted[result] += 1;
    expect(report.summary).toEqual(counted);
    expect(report.summary.warn).toBeGreaterThan(0);
  });

  it('stays small whatever the namespace holds', () => {
    expect(JSON.stringify(report).length).toBeLessThan(16 * 1024);
  });

  it('tells the uid of its MCPServer from its name, and no uid from another name', () => {
    expect(reportedUid(reportName(object.uid))).toBe(object.uid);
    expect(reportedUid('mcpserver-webhook')).toBeUndefined();
    expect(reportedUid('kyverno-report')).toBeUndefined();
  });
});
