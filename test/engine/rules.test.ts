import { describe, expect, it } from 'vitest';
import { RULES, validate, type Context, type Verdict } from '../../src/engine/index.js';
import { CASES } from './rule-cases.js';

function findingsOf(verdict: Verdict, rule: string) {
  return [...verdict.denials, ...verdict.warnings, ...verdict.audits].filter((finding) => finding.rule === rule);
}

describe('rule catalogue', () => {
  it('has a case for every rule, and every rule has a stable kebab-case ID, a description and a fix', () => {
    expect(CASES.map((c) => c.rule).sort()).toEqual(RULES.map((rule) => rule.id).sort());
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  for (const { rule, fleet, schema, passes, fires } of CASES) {
    describe(rule, () => {
      const defaults = RULES.find((candidate) => candidate.id === rule)?.defaults;
      it.each(passes.map((object, index) => [index, object] as const))('passes good object %i', (_, object) => {
        for (const context of ['manifest', 'admission'] as Context[]) {
          expect(findingsOf(validate(object, { context, fleet, schema }), rule)).toEqual([]);
        }
      });
      it.each(fires.map(({ object, path }, index) => [index, path, object] as const))('fires on bad object %i at %s', (_, path, object) => {
        for (const context of ['manifest', 'admission'] as Context[]) {
          const verdict = validate(object, { context, fleet, schema });
          const findings = findingsOf(verdict, rule);
          const expectedAction = defaults?.[context];
          if (expectedAction === 'off') continue;
          expect(findings.map((finding) => finding.path)).toContain(path);
          for (const finding of findings) {
            expect(finding.action).toBe(expectedAction);
            // kubectl prints `field: message`: a message that began with its field would show it twice.
            if (finding.path) expect(finding.message.startsWith(finding.path)).toBe(false);
            expect(finding.summary.length).toBeGreaterThan(0);
          }
          expect(verdict.allowed).toBe(verdict.denials.length === 0);
        }
      });
    });
  }
});
