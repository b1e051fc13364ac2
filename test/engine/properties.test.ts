import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validate, type Context, type Verdict } from '../../src/engine/index.js';
import { mcpServerObject as object } from './arbitraries.js';

const context = fc.constantFrom<Context>('manifest', 'admission');

function allFindings(verdict: Verdict) {
  return [...verdict.denials, ...verdict.warnings, ...verdict.audits];
}

describe('the engine on arbitrary input', () => {
  it('never throws, and always gives a well-formed verdict', () => {
    fc.assert(
      fc.property(object, context, (input, ctx) => {
        const verdict = validate(input, { context: ctx });
        expect(typeof verdict.allowed).toBe('boolean');
        expect(verdict.allowed).toBe(verdict.denials.length === 0);
        for (const finding of allFindings(verdict)) {
          expect(finding.rule).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
          expect(typeof finding.path).toBe('string');
          expect(finding.message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same verdict, byte for byte, every time and whatever the key order', () => {
    fc.assert(
      fc.property(object, context, (input, ctx) => {
        const first = JSON.stringify(validate(input, { context: ctx }));
        expect(JSON.stringify(validate(input, { context: ctx }))).toBe(first);
        const reordered = reverseKeys(input);
        expect(JSON.stringify(validate(reordered, { context: ctx }))).toBe(first);
      }),
      { numRuns: 1000 },
    );
  });

  it('never puts a header or env value into a message', () => {
    fc.assert(
      fc.property(object, context, (input, ctx) => {
        const values = secretsIn(input);
        const text = JSON.stringify(validate(input, { context: ctx }));
        for (const value of values) expect(text).not.toContain(value);
      }),
      { numRuns: 2000 },
    );
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value === null || typeof value !== 'object') return value;
  const reversed: Record<string, unknown> = {};
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(reversed, key, { value: reverseKeys((value as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return reversed;
}

/** The generated secret-like values (the `tok…` tokens) found in headers and env. */
function secretsIn(input: unknown): string[] {
  const spec = (input as { spec?: { headers?: unknown; env?: unknown } } | null)?.spec;
  const values = [spec?.headers, spec?.env].flatMap((map) => (map && typeof map === 'object' ? Object.values(map) : []));
  return values.filter((value): value is string => typeof value === 'string').flatMap((value) => value.match(/tok[A-Za-z0-9]{24,40}/g) ?? []);
}
