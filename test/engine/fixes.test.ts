import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPath, validate, type Context, type Finding, type Verdict } from '../../src/engine/index.js';
import { exampleFiles, readExample } from '../fixtures.js';
import { mcpServerObject } from './arbitraries.js';
import { upstreamCorpus } from './corpus.js';
import { applyJsonPatch } from '../../src/engine/json-patch.js';
import { CASES } from './rule-cases.js';

const CONTEXTS: readonly Context[] = ['manifest', 'admission'];
const key = (finding: Pick<Finding, 'rule' | 'path'>): string => `${finding.rule} at ${finding.path}`;
const allFindings = (verdict: Verdict): Finding[] => [...verdict.denials, ...verdict.warnings, ...verdict.audits];

/**
 * Every fix offered, applied to the object that produced it as RFC 6902 says, and the object
 * judged again: the finding is gone, and nothing is denied that was not denied before. Returns
 * how many fixes it checked.
 */
function checkEveryFix(object: unknown, context: Context): number {
  const before = validate(object, { context });
  const deniedBefore = new Set(before.denials.map(key));
  let checked = 0;
  for (const finding of allFindings(before)) {
    if (!finding.fix) continue;
    const fixed = applyJsonPatch(object, finding.fix.patch);
    const after = validate(fixed, { context });
    const where = `${key(finding)}, fixed by "${finding.fix.description}"`;
    expect(allFindings(after).map(key), where).not.toContain(key(finding));
    expect(after.denials.map(key).filter((denial) => !deniedBefore.has(denial)), where).toEqual([]);
    expect(finding.fix.patch.length, where).toBeGreaterThan(0);
    checked++;
  }
  return checked;
}

describe('fixes proven to fix', () => {
  it('on every object of the rule cases, the examples and the upstream corpus', () => {
    const objects = [
      ...CASES.flatMap(({ passes, fires }) => [...passes, ...fires.map(({ object }) => object)]),
      ...exampleFiles('').map((file) => readExample(file)),
      ...exampleFiles('invalid').map((file) => readExample(`invalid/${file}`)),
      ...upstreamCorpus().map(({ object }) => object),
    ];
    let checked = 0;
    for (const object of objects) for (const context of CONTEXTS) checked += checkEveryFix(object, context);
    // Enough fixes are offered for the property to mean something.
    expect(checked).toBeGreaterThan(20);
  });

  it('on arbitrary objects', () => {
    fc.assert(
      fc.property(mcpServerObject, fc.constantFrom(...CONTEXTS), (object, context) => {
        checkEveryFix(object, context);
      }),
      { numRuns: 1500 },
    );
  });

  it('each rule that offers a fix offers it on its own case, with a description that names no value of a credential field', () => {
    const offering = new Set<string>();
    for (const { fires } of CASES) {
      for (const { object } of fires) {
        for (const finding of allFindings(validate(object, { context: 'manifest' }))) {
          if (!finding.fix) continue;
          offering.add(finding.rule);
          expect(finding.fix.description).not.toMatch(/Bearer|ghp_|eyJ/);
          expect(formatPath(finding.field)).toBe(finding.path);
        }
      }
    }
    expect([...offering].sort()).toEqual(
      ['args-stdio-only', 'auth-ignored-for-stdio', 'authorization-server-issuer', 'env-ignored-for-remote', 'expected-issuer-required', 'headers-remote-only', 'sse-with-per-user-auth', 'unknown-field'].sort(),
    );
  });
});
