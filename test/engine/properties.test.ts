import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validate, type Context, type Verdict } from '../../src/engine/index.js';

/** Values shaped like MCPServer fields, often right and often wrong, so every rule gets exercised. */
const anyValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof(arbitrary, anyValue);
const secret = fc.stringMatching(/^[A-Za-z0-9]{24,40}$/).map((s) => `tok${s}`);
const headerValue = fc.oneof(
  secret.map((s) => `Bearer ${s}`),
  secret.map((s) => `ghp_${s.padEnd(36, 'x').slice(0, 36)}`),
  fc.constantFrom('Bearer <token>', '${TOKEN}', 'acme', '', 'REPLACE_ME'),
  fc.string(),
);

const spec = fc.record(
  {
    type: maybe(fc.constantFrom('stdio', 'streamable-http', 'sse')),
    command: maybe(fc.constantFrom('mcp-local', '')),
    args: maybe(fc.array(fc.string(), { maxLength: 2 })),
    url: maybe(fc.constantFrom('https://mcp.example.com/mcp', 'http://mcp.example.com/mcp', 'http://svc:8080', 'not a url', 'http://[::1]/x')),
    headers: maybe(fc.dictionary(fc.constantFrom('Authorization', 'authorization', 'X-API-Key', 'X-Tenant', 'Bad Name', 'Cookie'), headerValue, { maxKeys: 4 })),
    env: maybe(fc.dictionary(fc.constantFrom('GITHUB_TOKEN', 'HOME'), secret, { maxKeys: 2 })),
    timeout: maybe(fc.integer({ min: -5, max: 400 })),
    description: maybe(fc.string({ maxLength: 600 })),
    toolPrefix: maybe(fc.string()),
    auth: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom('oauth', 'none')),
          forwardToken: maybe(fc.boolean()),
          requiredAudiences: maybe(fc.array(fc.string(), { maxLength: 2 })),
          authorizationServer: maybe(fc.record({ issuer: maybe(fc.constantFrom('https://auth.example.com', 'https://auth.example.com/', 'http://x')), scopes: maybe(fc.string()) }, { requiredKeys: [] })),
          tokenExchange: maybe(
            fc.record(
              {
                enabled: maybe(fc.boolean()),
                dexTokenEndpoint: maybe(fc.constantFrom('https://dex.example.com/token', 'http://dex')),
                connectorId: maybe(fc.constantFrom('cluster-a', '1bad')),
                clientCredentialsSecretRef: maybe(fc.record({ name: maybe(fc.string()) }, { requiredKeys: [] })),
              },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    unknownField: anyValue,
  },
  { requiredKeys: [] },
);

const object = fc.oneof(
  { weight: 8, arbitrary: fc.record({ apiVersion: maybe(fc.constant('muster.giantswarm.io/v1alpha1')), kind: maybe(fc.constant('MCPServer')), metadata: maybe(fc.record({ name: maybe(fc.string()), namespace: maybe(fc.string()) }, { requiredKeys: [] })), spec: maybe(spec) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.anything() },
);
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
