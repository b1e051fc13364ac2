import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileAdmissionPolicy, compileCel, MCPServerSchema, Policy, validate, type CompiledCel } from '../../../src/engine/index.js';
import { toCelInput, withDefaults } from '../../../src/engine/cel/values.js';

/**
 * The generated CEL and the engine agree: on random MCPServers as a ValidatingAdmissionPolicy is
 * given them (the CRD's defaults filled in, its schema passed), every validation of the policy
 * fails exactly where the engine finds the same rule with the same action, in any namespace.
 */
const schema = MCPServerSchema.builtIn();
const secret = fc.stringMatching(/^[A-Za-z0-9]{20,30}$/);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const spec = fc.record(
  {
    type: fc.constantFrom('stdio', 'streamable-http', 'sse'),
    command: maybe(fc.constantFrom('mcp-local', '')),
    args: maybe(fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 })),
    url: maybe(fc.constantFrom('https://mcp.example.com/mcp', 'http://svc:8080')),
    headers: maybe(
      fc.dictionary(
        fc.constantFrom('Authorization', 'X-Tenant', 'x-tenant', 'Bad Name', 'X(1)', 'É'),
        fc.oneof(secret.map((value) => `Bearer ${value}`), fc.constantFrom('acme', '', 'a\nb', 'tab\there', 'bell\u0007')),
        { maxKeys: 3 },
      ),
    ),
    env: maybe(fc.dictionary(fc.constantFrom('HOME', 'TOKEN'), secret, { maxKeys: 2 })),
    auth: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom('oauth', 'none')),
          forwardToken: maybe(fc.boolean()),
          requiredAudiences: maybe(fc.array(fc.oneof(fc.constantFrom('dex-k8s', 'a b', '', 'x'.repeat(257), 'ü')), { maxLength: 3 }).chain((list) => fc.constantFrom(list, Array.from({ length: 51 }, () => 'a')))),
          authorizationServer: maybe(fc.record({ issuer: fc.constant('https://auth.example.com') })),
          tokenExchange: maybe(
            fc.record(
              {
                enabled: maybe(fc.boolean()),
                dexTokenEndpoint: maybe(fc.constantFrom('https://dex.example.com/token', '')),
                connectorId: maybe(fc.constantFrom('cluster-a', '')),
                scopes: maybe(fc.constantFrom('openid profile email groups', 'openid')),
                clientCredentialsSecretRef: maybe(fc.record({ name: fc.constant('creds') })),
              },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: ['type'] },
);

/** Leaves out the keys fast-check set to undefined: a manifest has the field or not. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, child]) => child !== undefined).map(([key, child]) => [key, compact(child)]));
}

/** An MCPServer as the API server hands it to an admission policy: defaults in, schema passed. */
const admitted = spec.map((value) => withDefaults(schema.root, { apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name: 'server', namespace: 'muster' }, spec: compact(value) }));
const passesSchema = (object: unknown): boolean => schema.check(object).every((issue) => issue.celRule !== undefined);

const namespace = fc.record({ name: fc.constantFrom('muster', 'payments', 'tools'), labels: fc.dictionary(fc.constantFrom('tier', 'team'), fc.constantFrom('payments', 'platform'), { maxKeys: 2 }) });

const POLICIES = [
  Policy.builtIn(),
  new Policy(
    {
      rules: { 'env-ignored-for-remote': 'deny', 'authorization-server-override': { admission: 'audit' } },
      namespaces: [
        { names: ['payments'], rules: { 'header-syntax': 'warn', 'sse-with-per-user-auth': 'deny' } },
        { selector: { matchLabels: { tier: 'payments' } }, rules: { 'authorization-server-override': 'deny', 'header-syntax': 'deny' } },
        { selector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['platform'] }, { key: 'tier', operator: 'Exists' }] }, rules: { 'required-audiences-unused': 'off' } },
        { selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['platform'] }, { key: 'tier', operator: 'DoesNotExist' }] }, rules: { 'args-stdio-only': 'warn' } },
      ],
    },
    'overrides',
  ),
];

describe('the ValidatingAdmissionPolicy of `vap` and the engine', () => {
  it.each(POLICIES.map((policy) => [policy.source, policy] as const))('decide the same, by the same rule, on random MCPServers in any namespace (%s policy)', (_, policy) => {
    const compiled = compileAdmissionPolicy({ policy });
    const programs = compiled.validations.map((validation) => ({ ...validation, program: compileCel(validation.expression), message: compileCel(validation.messageExpression) }));
    for (const { program, message } of programs) {
      expect(program.kind).toBe('program');
      expect(message.kind).toBe('program');
    }
    const fired = new Set<string>();
    fc.assert(
      fc.property(admitted, namespace, (object, where) => {
        fc.pre(passesSchema(object));
        const bindings = { object: toCelInput(schema.root, object), oldObject: null, namespaceObject: new Map([['metadata', new Map<string, unknown>([['name', where.name], ['labels', new Map(Object.entries(where.labels))]])]]) } as const;
        const byPolicy = programs
          .filter(({ program }) => {
            const outcome = (program as Extract<CompiledCel, { kind: 'program' }>).evaluate(bindings as never);
            expect(outcome.kind, JSON.stringify(object)).toBe('value');
            return outcome.kind === 'value' && outcome.value !== true;
          })
          .map(({ rule, action }) => `${rule} ${action}`);
        const verdict = validate(object, { context: 'admission', policy, namespace: where });
        const byEngine = [...verdict.denials, ...verdict.warnings, ...verdict.audits]
          .filter((finding) => compiled.enforced.includes(finding.rule))
          .map((finding) => `${finding.rule} ${finding.action}`);
        expect([...new Set(byPolicy)].sort(), JSON.stringify({ object, where })).toEqual([...new Set(byEngine)].sort());
        for (const rule of byPolicy) fired.add(rule.split(' ')[0]!);
      }),
      { numRuns: 600 },
    );
    // Every rule the policy enforces was seen to fire, so none is equivalent only by never firing.
    expect([...fired].sort()).toEqual([...compiled.enforced].sort());
  });

  it("lets an UPDATE keep a problem the old object had, as the webhook's ratcheting does, and denies one it brings", () => {
    const compiled = compileAdmissionPolicy({ policy: Policy.builtIn() });
    const denials = compiled.validations.filter((validation) => validation.action === 'deny').map((validation) => ({ ...validation, program: compileCel(validation.expression) as Extract<CompiledCel, { kind: 'program' }> }));
    const namespaceObject = new Map([['metadata', new Map([['name', 'muster']])]]);
    fc.assert(
      fc.property(admitted, admitted, (before, after) => {
        fc.pre(passesSchema(before) && passesSchema(after));
        const bindings = { object: toCelInput(schema.root, after), oldObject: toCelInput(schema.root, before), namespaceObject };
        const byPolicy = denials.filter(({ program }) => {
          const outcome = program.evaluate(bindings as never);
          return outcome.kind === 'value' && outcome.value !== true;
        });
        const verdict = validate(after, { context: 'admission', oldObject: before });
        const byEngine = verdict.denials.filter((finding) => compiled.enforced.includes(finding.rule)).map((finding) => finding.rule);
        expect([...new Set(byPolicy.map(({ rule }) => rule))].sort(), JSON.stringify({ before, after })).toEqual([...new Set(byEngine)].sort());
      }),
      { numRuns: 300 },
    );
  });

  it('names the field and the rule in every message, and never a header or env value', () => {
    const compiled = compileAdmissionPolicy({ policy: Policy.builtIn() });
    fc.assert(
      fc.property(admitted, (object) => {
        fc.pre(passesSchema(object));
        const bindings = { object: toCelInput(schema.root, object), oldObject: null, namespaceObject: new Map([['metadata', new Map([['name', 'muster']])]]) };
        for (const { rule, expression, messageExpression } of compiled.validations) {
          const failed = (compileCel(expression) as Extract<CompiledCel, { kind: 'program' }>).evaluate(bindings as never);
          if (failed.kind !== 'value' || failed.value === true) continue;
          const text = (compileCel(messageExpression) as Extract<CompiledCel, { kind: 'program' }>).evaluate(bindings as never);
          expect(text.kind).toBe('value');
          const words = String(text.kind === 'value' ? text.value : '');
          expect(words).toMatch(new RegExp(`^spec\\.[^:]+: .+ \\[${rule}\\]$`));
          const spec = (object as { spec: { headers?: Record<string, string>; env?: Record<string, string> } }).spec;
          for (const value of [...Object.values(spec.headers ?? {}), ...Object.values(spec.env ?? {})].filter((value) => value.length > 3)) expect(words).not.toContain(value);
        }
      }),
      { numRuns: 200 },
    );
  });
});
