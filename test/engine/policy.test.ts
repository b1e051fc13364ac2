import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Policy, PolicyError, RULES, RULE_ALIASES, RULE_IDS, parsePolicy, validate } from '../../src/engine/index.js';
import { remote, repositoryFile } from '../fixtures.js';

const plainHttp = remote({ url: 'http://mcp-search:8080/mcp' });
const actionOf = (policy: Policy, object: Record<string, unknown>, namespace?: { name: string; labels?: Record<string, string> }) => {
  const verdict = validate(object, { context: 'admission', policy, ...(namespace ? { namespace } : {}) });
  if (verdict.denials.some((f) => f.rule === 'plaintext-url')) return 'deny';
  if (verdict.warnings.some((f) => f.rule === 'plaintext-url')) return 'warn';
  if (verdict.audits.some((f) => f.rule === 'plaintext-url')) return 'audit';
  return 'off';
};

describe('policy', () => {
  it('gives the built-in defaults with no file at all', () => {
    expect(actionOf(Policy.builtIn(), plainHttp)).toBe('warn');
  });

  it.each(['deny', 'warn', 'audit', 'off'] as const)('sets a rule to %s for both contexts', (action) => {
    const policy = parsePolicy(`rules:\n  plaintext-url: ${action}\n`, 'policy.yaml');
    expect(actionOf(policy, plainHttp)).toBe(action);
    const inGit = validate(plainHttp, { context: 'manifest', policy });
    expect(inGit.allowed).toBe(action !== 'deny');
  });

  it('sets a rule per context, leaving the other context at its default', () => {
    const policy = parsePolicy('rules:\n  header-literal-credential:\n    admission: deny\n', 'policy.yaml');
    const leaked = remote({ headers: { 'X-API-Key': 'c0ffee4d2b9a71e5' } });
    expect(validate(leaked, { context: 'admission', policy }).allowed).toBe(false);
    expect(validate(leaked, { context: 'manifest', policy }).denials.map((f) => f.rule)).toEqual(['header-literal-credential']);
    expect(validate(leaked, { context: 'admission' }).allowed).toBe(true);
  });

  it('applies namespace overrides by name and by label selector, later entries winning', () => {
    const policy = parsePolicy(
      `rules:
  plaintext-url: deny
namespaces:
  - names: [tools, sandbox]
    rules:
      plaintext-url: audit
  - selector:
      matchLabels: { mesh: istio }
      matchExpressions:
        - { key: tier, operator: NotIn, values: [edge] }
    rules:
      plaintext-url: off
  - names: [sandbox]
    rules:
      plaintext-url: warn
`,
      'policy.yaml',
    );
    expect(actionOf(policy, plainHttp, { name: 'muster' })).toBe('deny');
    expect(actionOf(policy, plainHttp, { name: 'tools' })).toBe('audit');
    expect(actionOf(policy, plainHttp, { name: 'sandbox' })).toBe('warn');
    expect(actionOf(policy, plainHttp, { name: 'apps', labels: { mesh: 'istio' } })).toBe('off');
    expect(actionOf(policy, plainHttp, { name: 'apps', labels: { mesh: 'istio', tier: 'edge' } })).toBe('deny');
    expect(actionOf(policy, plainHttp, { name: 'tools', labels: { mesh: 'istio' } })).toBe('off');
    // Without labels a selector cannot match: the namespace gets the file-wide action.
    expect(actionOf(policy, plainHttp, { name: 'apps' })).toBe('deny');
    // The object's own namespace is used when none is given.
    expect(actionOf(policy, remote({ url: 'http://mcp-search:8080/mcp' }))).toBe('deny');
  });

  it('supports every selector operator', () => {
    const policy = (expression: string) =>
      parsePolicy(`namespaces:\n  - selector:\n      matchExpressions: [${expression}]\n    rules: { plaintext-url: deny }\n`, 'p.yaml');
    const on = (p: Policy, labels: Record<string, string>) => actionOf(p, plainHttp, { name: 'n', labels });
    expect(on(policy('{key: env, operator: In, values: [prod]}'), { env: 'prod' })).toBe('deny');
    expect(on(policy('{key: env, operator: In, values: [prod]}'), { env: 'dev' })).toBe('warn');
    expect(on(policy('{key: env, operator: Exists}'), { env: 'dev' })).toBe('deny');
    expect(on(policy('{key: env, operator: Exists}'), {})).toBe('warn');
    expect(on(policy('{key: env, operator: DoesNotExist}'), {})).toBe('deny');
    expect(on(policy('{key: env, operator: NotIn, values: [prod]}'), { env: 'prod' })).toBe('warn');
  });

  it('reads JSON as well as YAML', () => {
    expect(actionOf(parsePolicy('{"rules": {"plaintext-url": "deny"}}', 'policy.json'), plainHttp)).toBe('deny');
  });

  it('treats an empty file as no overrides', () => {
    expect(actionOf(parsePolicy('# nothing yet\n', 'policy.yaml'), plainHttp)).toBe('warn');
  });

  const broken: readonly [string, string, RegExp][] = [
    ['an unknown rule ID', 'version: 1\nrules:\n  plaintext-urll: off\n', /^policy\.yaml:3: rules: plaintext-urll is not a rule ID; the rules are: schema-violation, /],
    ['an unknown action', 'rules:\n  plaintext-url: block\n', /^policy\.yaml:2: rules\[plaintext-url\]: must be an action \(deny, warn, audit or off\)/],
    ['an unknown context', 'rules:\n  plaintext-url:\n    kubectl: deny\n', /policy\.yaml:3: rules\[plaintext-url\]: unknown key kubectl; the keys allowed here are: manifest, admission, ratcheting$/],
    ['an unknown top-level key', 'rule:\n  plaintext-url: off\n', /^policy\.yaml:1: the policy: unknown key rule; the keys allowed here are: version, ratcheting, rules, namespaces/],
    ['a namespace entry without names or selector', 'namespaces:\n  - rules: {}\n', /^policy\.yaml:2: namespaces\[0\]: must be a namespace override that names the namespaces it is for: names and\/or selector/],
    ['a namespace entry that changes nothing', 'namespaces:\n  - names: [a]\n', /^policy\.yaml:2: namespaces\[0\]: must be a namespace override that changes something: rules and\/or ratcheting/],
    ['ratcheting that is not true or false', 'ratcheting: sometimes\n', /^policy\.yaml:1: ratcheting: must be of type boolean/],
    [
      'a manifest-only rule set for admission',
      'rules:\n  unknown-field:\n    admission: warn\n',
      /^policy\.yaml:3: rules\.unknown-field\.admission: unknown-field checks manifests only: at admission the API server has already checked the object/,
    ],
    ['a bad selector operator', 'namespaces:\n  - selector:\n      matchExpressions:\n        - key: a\n          operator: Like\n    rules: {}\n', /^policy\.yaml:5: namespaces\[0\]\.selector\.matchExpressions\[0\]\.operator: must be one of In, NotIn, Exists, DoesNotExist/],
    ['a YAML syntax error', 'rules:\n  plaintext-url: [deny\n', /^policy\.yaml:\d+: /],
    ['two documents', 'rules: {}\n---\nrules: {}\n', /^policy\.yaml:3: a policy file holds one document/],
    ['a list instead of a map', '- plaintext-url\n', /^policy\.yaml:1: the policy: must be of type object/],
  ];
  it.each(broken)('refuses %s with the file, the line and the key', (_, text, message) => {
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(PolicyError);
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(message);
  });

  it('lists every rule ID in schemas/policy.json, so editors can complete them, as `npm run generate` writes it', async () => {
    const text = readFileSync(repositoryFile('schemas/policy.json'), 'utf8');
    const schema = JSON.parse(text) as { definitions: { ruleId: { enum: string[] } } };
    expect(schema.definitions.ruleId.enum).toEqual([...RULE_IDS, ...Object.keys(RULE_ALIASES)]);
    const generator = (await import(repositoryFile('scripts/generate.mjs').href)) as {
      policySchema(ids: readonly string[], aliases: readonly string[]): Promise<unknown>;
      schemaText(schema: unknown): string;
    };
    expect(text, 'run `npm run generate`').toBe(generator.schemaText(await generator.policySchema(RULE_IDS, Object.keys(RULE_ALIASES))));
  });

  it('applies a setting for an old rule ID to the rule it names now', () => {
    const audiences = remote({ auth: { type: 'oauth', requiredAudiences: ['a'] } });
    const policy = parsePolicy('rules:\n  required-audiences-without-forward-token: deny\n', 'policy.yaml');
    expect(validate(audiences, { context: 'admission', policy }).denials.map((f) => f.rule)).toEqual(['required-audiences-unused']);
  });

  it('never runs a manifest-only rule at admission, whatever a setting for both contexts says', () => {
    const typo = remote({ forwardtoken: true });
    const policy = parsePolicy('rules:\n  unknown-field: deny\n', 'policy.yaml');
    expect(validate(typo, { context: 'admission', policy }).allowed).toBe(true);
    expect(validate(typo, { context: 'manifest', policy }).denials.map((f) => f.rule)).toEqual(['unknown-field']);
  });

  it('switches ratcheting off and on per policy, rule and namespace, later entries winning', () => {
    const policy = parsePolicy(
      `ratcheting: false
rules:
  header-syntax:
    ratcheting: true
namespaces:
  - names: [legacy]
    ratcheting: true
  - names: [legacy]
    rules:
      credential-over-plaintext: { ratcheting: false }
`,
      'policy.yaml',
    );
    const ratcheting = (namespace: string) => policy.rules('admission', { name: namespace }).ratcheting;
    expect(Policy.builtIn().rules('admission').ratcheting).toEqual(new Set(RULE_IDS));
    expect([...ratcheting('muster')]).toEqual(['header-syntax']);
    expect(ratcheting('legacy').has('header-syntax')).toBe(true);
    expect(ratcheting('legacy').has('header-unresolved-placeholder')).toBe(true);
    expect(ratcheting('legacy').has('credential-over-plaintext')).toBe(false);
  });

  it('asks for the schema check only where a rule reads it: in manifests, never at admission', () => {
    const schemaRules = RULES.filter((rule) => rule.manifestOnly).map((rule) => rule.id);
    expect(schemaRules.length).toBeGreaterThan(0);
    const strict = parsePolicy(`rules:\n${schemaRules.map((id) => `  ${id}: deny`).join('\n')}\n`, 'policy.yaml');
    const silent = parsePolicy(`rules:\n${schemaRules.map((id) => `  ${id}: { manifest: off }`).join('\n')}\n`, 'policy.yaml');
    expect(Policy.builtIn().rules('manifest').checksSchema).toBe(true);
    expect(Policy.builtIn().rules('admission').checksSchema).toBe(false);
    expect(strict.rules('admission').checksSchema).toBe(false);
    expect(silent.rules('manifest').checksSchema).toBe(false);
  });
});
