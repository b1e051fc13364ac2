import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Fleet, MCPServerSchema, Policy, RULES, rulesConcerning, validate, type Context, type Verdict } from '../../src/engine/index.js';
import { exampleFiles, mcpServer, remote, repositoryFile, stdio } from '../fixtures.js';
import { mcpServerObject } from './arbitraries.js';
import { upstreamCorpus } from './corpus.js';
import { CASES } from './rule-cases.js';

/**
 * Rule.concerns promises that a rule finds nothing in an object it does not concern: the audit's
 * PolicyReport lists a result only for the rules that concern the object, so a rule that found
 * something outside its predicate would report it where the report has no place for it.
 */

const CONTEXTS: readonly Context[] = ['manifest', 'admission'];
/** Every rule on in both contexts, so that a rule the built-in policy turns off is held to its predicate too. */
const EVERY_RULE_ON = new Policy({ rules: Object.fromEntries(RULES.map((rule) => [rule.id, 'warn'])) }, 'every rule on');
const POLICIES: readonly Policy[] = [Policy.builtIn(), EVERY_RULE_ON];
const WITH_PREDICATE = RULES.filter((rule) => rule.concerns !== undefined);
/** A rule that flags every use of a setting: it concerns exactly the objects it fires on. */
const FLAGS_EVERY_USE = new Set(['authorization-server-override']);

interface Judged {
  readonly object: unknown;
  readonly fleet?: Fleet;
  readonly schema?: MCPServerSchema;
}

function findingsOf(verdict: Verdict) {
  return [...verdict.denials, ...verdict.warnings, ...verdict.audits].filter((finding) => finding.rule !== 'internal-error');
}

/** The findings of rules that do not concern the object, as `rule at path (context)`: none, ever. */
function outsideConcerns({ object, fleet, schema }: Judged): string[] {
  const concerned = new Set(rulesConcerning(object, schema));
  return CONTEXTS.flatMap((context) =>
    POLICIES.flatMap((policy) =>
      findingsOf(validate(object, { context, policy, fleet, schema }))
        .filter((finding) => !concerned.has(finding.rule))
        .map((finding) => `${finding.rule} at ${finding.path} (${context}, ${policy.source})`),
    ),
  );
}

const caseObjects: Judged[] = CASES.flatMap(({ fleet, schema, passes, fires }) => [...passes, ...fires.map(({ object }) => object)].map((object) => ({ object, fleet, schema })));

const yamlDocuments = (path: string): unknown[] => loadAll(readFileSync(repositoryFile(path), 'utf8')).filter((document) => typeof document === 'object' && document !== null);

function exampleObjects(): Judged[] {
  const single = [...exampleFiles('').map((file) => `examples/${file}`), ...exampleFiles('invalid').map((file) => `examples/invalid/${file}`)];
  const review = JSON.parse(readFileSync(repositoryFile('examples/admission-review.json'), 'utf8')) as { request: { object: unknown } };
  // A rule that looks at Secrets runs where they are known: here, none exist.
  const noSecrets = new Fleet([], { has: () => false });
  const alone: Judged[] = [...single.flatMap(yamlDocuments), review.request.object].flatMap((object) => [{ object }, { object, fleet: noSecrets }]);
  const inFleets = readdirSync(repositoryFile('examples/fleet')).flatMap((folder) => {
    const objects = exampleFiles(`fleet/${folder}`).flatMap((file) => yamlDocuments(`examples/fleet/${folder}/${file}`));
    const fleet = new Fleet(objects.map((object, index) => ({ id: String(index), object })));
    return objects.map((object) => ({ object, fleet }));
  });
  return [...alone, ...inFleets];
}

function corpusObjects(): Judged[] {
  const corpus = upstreamCorpus();
  const fleet = new Fleet(
    corpus.map(({ object }, index) => ({ id: String(index), object })),
    { has: () => false },
  );
  return corpus.flatMap(({ object }) => [{ object }, { object, fleet }]);
}

describe('a rule finds nothing in an object it does not concern', () => {
  it('in every object of the rule cases', () => {
    expect(caseObjects.length).toBeGreaterThan(200);
    expect(caseObjects.flatMap(outsideConcerns)).toEqual([]);
  });

  it('in every example', () => {
    const examples = exampleObjects();
    expect(examples.length).toBeGreaterThan(40);
    expect(examples.flatMap(outsideConcerns)).toEqual([]);
  });

  it("in every MCPServer of upstream Muster's corpus", () => {
    expect(corpusObjects().flatMap(outsideConcerns)).toEqual([]);
  });

  it('in arbitrary MCPServers, alone and among others, with Secrets known', () => {
    const secrets = { has: (_namespace: string, name: string) => name === 'dex-client' };
    fc.assert(
      fc.property(mcpServerObject, fc.array(mcpServerObject, { maxLength: 3 }), (object, others) => {
        const fleet = new Fleet([object, ...others].map((member, index) => ({ id: String(index), object: member })), secrets);
        expect(outsideConcerns({ object })).toEqual([]);
        expect(outsideConcerns({ object, fleet })).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('in arbitrary MCPServers that share names and families with their fleet', () => {
    const named = (name: string) => mcpServerObject.map((object) => (typeof object === 'object' && object !== null ? { ...object, metadata: { name, namespace: 'muster' } } : object));
    fc.assert(
      fc.property(named('a'), fc.array(fc.oneof(named('b'), named('a'), named('c')), { maxLength: 3 }), (object, others) => {
        const fleet = new Fleet([object, ...others].map((member, index) => ({ id: String(index), object: member })), { has: () => false });
        expect(outsideConcerns({ object, fleet })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('what the rules concern', () => {
  it('a plain stdio server: the rules of the whole object and those of stdio servers only', () => {
    const concerned = rulesConcerning(stdio());
    expect(concerned.length).toBeLessThan(12);
    expect(concerned).toEqual(['schema-violation', 'unknown-field', 'crd-cel-rule', 'crd-cel-unchecked', 'stdio-command-required', 'tool-prefix-collision']);
  });

  it('a plain remote server: no header, env or auth rule', () => {
    expect(rulesConcerning(remote())).toEqual(['schema-violation', 'unknown-field', 'crd-cel-rule', 'crd-cel-unchecked', 'remote-url-required', 'plaintext-url', 'tool-prefix-collision']);
  });

  it('a remote server with headers and OAuth: its header and OAuth rules, and none of env, token exchange or the authorization server', () => {
    const concerned = rulesConcerning(remote({ headers: { Authorization: 'Bearer ${TOKEN}' }, auth: { type: 'oauth' } }));
    expect(concerned).toEqual(expect.arrayContaining(['header-syntax', 'header-literal-credential', 'auth-remote-only', 'headers-ignored-per-user', 'sse-with-per-user-auth', 'credential-over-plaintext']));
    expect(concerned.filter((rule) => /^(env-|token-exchange-|authorization-server-|required-audiences-)|referenced-secret|family-/.test(rule))).toEqual([]);
  });

  it('a stdio server with env: its env rules, and no header rule', () => {
    const concerned = rulesConcerning(stdio({ env: { GITHUB_TOKEN: '${TOKEN}' } }));
    expect(concerned).toEqual(expect.arrayContaining(['env-unresolved-placeholder', 'env-literal-credential', 'env-dummy-credential', 'env-ignored-for-remote']));
    expect(concerned.filter((rule) => rule.startsWith('header'))).toEqual([]);
  });

  it('an object that is no MCPServer at all concerns only the rules of the whole object', () => {
    expect(rulesConcerning('not an object')).toEqual(RULES.filter((rule) => !rule.concerns).map((rule) => rule.id));
    expect(rulesConcerning(mcpServer({}))).toEqual(RULES.filter((rule) => !rule.concerns).map((rule) => rule.id));
  });

  it('every rule but those that read the whole object has a predicate', () => {
    expect(RULES.filter((rule) => !rule.concerns).map((rule) => rule.id)).toEqual(['schema-violation', 'unknown-field', 'crd-cel-rule', 'crd-cel-unchecked', 'tool-prefix-collision']);
  });

  it.each(WITH_PREDICATE.map((rule) => [rule.id, rule] as const))('%s concerns some objects of the rule cases and not others, and some it passes', (id, rule) => {
    const concerning = (object: unknown, schema?: MCPServerSchema) => rulesConcerning(object, schema).includes(id);
    expect(caseObjects.some(({ object, schema }) => concerning(object, schema)), 'concerns no object').toBe(true);
    expect(caseObjects.some(({ object, schema }) => !concerning(object, schema)), 'concerns every object').toBe(true);
    // A predicate is not the finding itself: the rule also concerns objects where it finds nothing,
    // and reports pass for them.
    const ownCase = CASES.find((candidate) => candidate.rule === id);
    const passesSome = ownCase?.passes.some((object) => concerning(object, ownCase.schema));
    expect(passesSome, 'concerns none of the objects it passes').toBe(!FLAGS_EVERY_USE.has(id));
    // Every rule fires only where it concerns (the first block says so); here, its own cases fire.
    for (const { object } of ownCase?.fires ?? []) expect(concerning(object, ownCase?.schema)).toBe(true);
    expect(rule.concerns).toBeTypeOf('function');
  });
});
