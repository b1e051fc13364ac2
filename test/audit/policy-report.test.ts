import { describe, expect, it } from 'vitest';
import { buildPolicyReport, canonicalJson, objectResults, sameReportContent, type AuditedObject } from '../../src/audit/policy-report.js';
import { Policy, RULES, validate } from '../../src/engine/index.js';
import { remote, stdio } from '../fixtures.js';

const policy = Policy.builtIn();

function audited(object: Record<string, unknown>, uid: string, failedRules: readonly string[] = []): AuditedObject {
  const { name, namespace } = object.metadata as { name: string; namespace: string };
  return { uid, name, namespace, verdict: validate(object, { context: 'admission' }), actions: policy.actions('admission', { name: namespace }), failedRules: new Set(failedRules) };
}

describe('objectResults', () => {
  it('reports a rule that failed to run as an error, not as a pass', () => {
    const rule = RULES.find((candidate) => !candidate.manifestOnly);
    const results = objectResults(audited(remote(), 'uid-1', [rule!.id]));
    expect(results.find((result) => result.rule === rule!.id)).toMatchObject({ result: 'error', scored: true, message: expect.stringContaining(`the rule ${rule!.id} failed`) });
  });

  it('reports an object the engine denied without running the rules as one error, with no passes', () => {
    const unchecked = { rule: 'internal-error', path: '', message: 'the object could not be checked', summary: 'unchecked', action: 'deny', field: [] } as const;
    const object = { ...audited(remote(), 'uid-1'), verdict: { allowed: false, denials: [unchecked], warnings: [], audits: [], unchecked: [] } };
    expect(objectResults(object)).toEqual([
      expect.objectContaining({ rule: 'internal-error', result: 'error', message: 'the object could not be checked', scored: true }),
    ]);
  });

  it('joins the findings of one rule on several fields into one result', () => {
    const object = remote({ headers: { 'Bad Name': 'x', 'Also Bad': 'y' } });
    const syntax = objectResults(audited(object, 'uid-1')).filter((result) => result.rule === 'header-syntax');
    expect(syntax).toHaveLength(1);
    expect(syntax[0]?.message?.split('; ')).toHaveLength(2);
  });
});

describe('buildPolicyReport', () => {
  const results = [...objectResults(audited(stdio(), 'uid-2')), ...objectResults(audited({ ...stdio(), metadata: { name: 'another', namespace: 'muster' } }, 'uid-1'))];

  it('orders results by object name, uid and rule, whatever order they come in', () => {
    const report = buildPolicyReport('muster', [...results].reverse(), undefined, new Date(1_700_000_000_000));
    expect(report.results.map((result) => `${result.resources[0].name} ${result.rule}`)).toEqual(
      [...results].map((result) => `${result.resources[0].name} ${result.rule}`).sort(),
    );
    expect(report.results[0]?.timestamp).toEqual({ seconds: 1_700_000_000, nanos: 0 });
  });

  it('keeps the timestamp of a result that has not changed, and is then the same content as before', () => {
    const first = buildPolicyReport('muster', results, undefined, new Date(1_700_000_000_000));
    // As the API server returns it: keys in alphabetical order, plus its own metadata.
    const stored = JSON.parse(canonicalJson({ ...first, metadata: { ...first.metadata, resourceVersion: '5', uid: 'x' } })) as unknown;
    const again = buildPolicyReport('muster', results, stored, new Date(1_800_000_000_000));
    expect(again.results).toEqual(first.results);
    expect(sameReportContent(stored, again)).toBe(true);

    const changed = buildPolicyReport('muster', results.slice(1), stored, new Date(1_800_000_000_000));
    expect(sameReportContent(stored, changed)).toBe(false);
  });

  it('does not take a report without its managed-by label for its own', () => {
    const report = buildPolicyReport('muster', results, undefined, new Date());
    expect(sameReportContent({ ...report, metadata: { ...report.metadata, labels: {} } }, report)).toBe(false);
  });
});
