import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_WARNING_LENGTH, MAX_WARNINGS, RATCHETED_MARK, admissionWarnings, warningText } from '../../src/admission/warnings.js';
import { parsePolicy, RULES, validate, type Finding } from '../../src/engine/index.js';
import { remote } from '../fixtures.js';
import { CASES } from '../engine/rule-cases.js';

/** Every rule that runs at admission, set to warn: so each finding of the rule cases is a warning. */
const EVERYTHING_WARNS = parsePolicy(`rules:\n${RULES.filter((rule) => !rule.manifestOnly).map((rule) => `  ${rule.id}: warn`).join('\n')}\n`, 'warn-all.yaml');

const warningsOfCases = CASES.flatMap(({ rule, fleet, fires }) =>
  fires.flatMap(({ object }) => validate(object, { context: 'admission', policy: EVERYTHING_WARNS, fleet }).warnings.filter((finding) => finding.rule === rule)),
);

describe('warnings as kubectl prints them (`Warning: ` and the text)', () => {
  it('covers every rule that runs at admission', () => {
    expect(new Set(warningsOfCases.map((finding) => finding.rule))).toEqual(new Set(RULES.filter((rule) => !rule.manifestOnly).map((rule) => rule.id)));
  });

  it.each(warningsOfCases.map((finding) => [finding.rule, finding.path, finding] as const))(
    '%s at %s is a whole sentence within 120 characters, let through or not',
    (rule, path, finding) => {
      for (const ratcheted of [false, true]) {
        const text = warningText({ ...finding, ...(ratcheted ? { ratcheted: true } : {}) });
        // Written to fit: nothing cut, not even the header name in the path.
        expect(text).toBe(`${path}: ${finding.summary}${ratcheted ? ` ${RATCHETED_MARK}` : ''} [${rule}]`);
        expect(text.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
      }
    },
  );

  it('shortens a very long header name in the path, never the sentence', () => {
    const name = `X-${'Very-Long-Header-Name-'.repeat(10)}Token`;
    const [finding] = validate(remote({ headers: { [name]: '${TOKEN}' } }), { context: 'admission', policy: EVERYTHING_WARNS }).warnings;
    const text = warningText({ ...finding!, ratcheted: true });
    expect(text.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    expect(text).toMatch(/^spec\.headers\[X-Very-Long-[^\]]*\.\.\.\]: holds a placeholder: inject the value \(existing\) \[header-unresolved-placeholder\]$/);
  });

  it('keeps any warning short, plain ASCII and ending with its rule ID, and at most ten', () => {
    const finding = (rule: string, path: string, summary: string): Finding => ({ rule, path, field: [path], message: summary, summary, action: 'warn' });
    fc.assert(
      fc.property(
        fc.array(fc.record({ rule: fc.constantFrom(...RULES.map((rule) => rule.id)), summary: fc.string({ unit: 'binary', maxLength: 400 }) }), { maxLength: 25 }),
        (entries) => {
          const warnings = admissionWarnings(entries.map(({ rule, summary }) => finding(rule, 'spec', summary)));
          expect(warnings.length).toBe(Math.min(entries.length, MAX_WARNINGS));
          for (const [index, warning] of warnings.entries()) {
            expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
            expect(warning).toMatch(/^[\x20-\x7e]*$/);
            if (entries.length <= MAX_WARNINGS || index < MAX_WARNINGS - 1) expect(warning.endsWith(`[${entries[index]?.rule}]`)).toBe(true);
          }
        },
      ),
    );
    const many = admissionWarnings(Array.from({ length: 13 }, (_, i) => finding('plaintext-url', 'spec.url', `warning ${i}`)));
    expect(many.at(-1)).toBe('4 more warnings: mcpserver-webhook validate --context admission lists them all');
  });
});
