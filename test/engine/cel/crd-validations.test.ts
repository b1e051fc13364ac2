import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { MCPServerSchema, Policy, RULES, validate, type Finding } from '../../../src/engine/index.js';
import { mcpServer, readExample, repositoryFile } from '../../fixtures.js';

const bundledCrd = (): Record<string, unknown> => load(readFileSync(repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml'), 'utf8')) as Record<string, unknown>;

/** The spec's schema node of a CRD, to add rules to. */
function specNode(crd: Record<string, unknown>): Record<string, unknown> {
  const versions = (crd.spec as { versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[] }).versions;
  return versions[0]!.schema.openAPIV3Schema.properties.spec;
}

/** The bundled CRD with these CEL rules added on spec. */
function crdWithSpecRules(...rules: Record<string, unknown>[]): MCPServerSchema {
  const crd = bundledCrd();
  const spec = specNode(crd);
  spec['x-kubernetes-validations'] = [...((spec['x-kubernetes-validations'] as unknown[]) ?? []), ...rules];
  return MCPServerSchema.fromCrd(crd, 'crd.yaml');
}

/** Every rule of ours that stands for a CRD rule, off: the CRD's rules then speak for themselves. */
const mirrorsOff = new Policy({ rules: Object.fromEntries(RULES.filter((rule) => rule.mirrorsCrdRule).map((rule) => [rule.id, 'off'])) }, 'test');

/** `path: message` as kubectl prints a cause, the object as a whole being `<nil>`. */
const asKubectlPrintsIt = (finding: Finding): string => `${finding.path || '<nil>'}: ${finding.message}`;

const celFindings = (object: unknown, schema?: MCPServerSchema, policy = mirrorsOff) =>
  [...validate(object, { context: 'manifest', policy, ...(schema ? { schema } : {}) }).denials, ...validate(object, { context: 'manifest', policy, ...(schema ? { schema } : {}) }).warnings].filter((finding) =>
    finding.rule.startsWith('crd-cel'),
  );

describe("the CRD's own CEL rules, evaluated offline", () => {
  it("word each of the bundled CRD's failures exactly as kube-apiserver did in the recorded kubectl transcript", () => {
    // test/recorded/kubectl-transcript.txt: `$ kubectl apply -f FILE`, then what kubectl printed.
    const transcript = readFileSync(repositoryFile('test/recorded/kubectl-transcript.txt'), 'utf8').split('\n');
    const recorded = transcript.flatMap((line, index) => {
      const file = /^\$ kubectl apply -f examples\/(invalid\/[\w-]+\.yaml)$/.exec(line)?.[1];
      const said = /is invalid: (.*Invalid value: "object": .*)$/.exec(transcript[index + 1] ?? '')?.[1];
      return file && said ? [{ file, said }] : [];
    });
    // All seven CEL rules of the bundled CRD fire in the transcript.
    expect(recorded).toHaveLength(7);
    for (const { file, said } of recorded) {
      expect(celFindings(readExample(file)).map(asKubectlPrintsIt), file).toEqual([said]);
    }
  });

  it('yield to the rule of ours that reports the same mistake on the field to fix, and only then', () => {
    const object = readExample('invalid/crd-cel-rule.yaml');
    const byDefault = validate(object, { context: 'manifest' });
    expect(byDefault.denials.map((finding) => finding.rule)).toEqual(['authorization-server-oauth-only']);
    expect(celFindings(object).map(asKubectlPrintsIt)).toEqual(['spec.auth: Invalid value: "object": authorizationServer is only valid when type is oauth']);
  });

  it("apply the CRD's defaults first, as the API server does before it validates", () => {
    const schema = crdWithSpecRules({ rule: 'self.timeout <= 60', message: 'timeout must be at most a minute' });
    // No timeout: the default of 30 is what the rule sees.
    expect(celFindings(mcpServer({ type: 'stdio', command: 'x' }), schema)).toEqual([]);
    expect(celFindings(mcpServer({ type: 'stdio', command: 'x', timeout: 90 }), schema).map(asKubectlPrintsIt)).toEqual([
      'spec: Invalid value: "object": timeout must be at most a minute',
    ]);
  });

  it('honour messageExpression, fieldPath and reason, and say `failed rule:` without a message', () => {
    const schema = crdWithSpecRules(
      { rule: "self.type != 'sse'", messageExpression: "'type ' + self.type + ' is deprecated'", fieldPath: '.type' },
      { rule: "!has(self.toolPrefix) || self.toolPrefix != ''", reason: 'FieldValueRequired', message: 'toolPrefix must not be empty', fieldPath: '.toolPrefix' },
      { rule: "self.type != 'sse' || has(self.description)" },
      { rule: '!has(self.headers) || !has(self.headers.x)', reason: 'FieldValueForbidden', message: 'no header x', fieldPath: ".headers['x']" },
    );
    const object = mcpServer({ type: 'sse', url: 'https://a.example.com', toolPrefix: '', headers: { x: 'y' } });
    expect(celFindings(object, schema).map(asKubectlPrintsIt).sort()).toEqual([
      'spec.headers[x]: Forbidden: no header x',
      'spec.toolPrefix: Required value: toolPrefix must not be empty',
      'spec.type: Invalid value: "object": type sse is deprecated',
      'spec: Invalid value: "object": failed rule: self.type != \'sse\' || has(self.description)',
    ]);
  });

  it('report a rule calling a function this checker lacks as not checked, with its text, and never crash or pass it', () => {
    const schema = crdWithSpecRules({ rule: "!has(self.url) || isURL(self.url)", message: 'url must be a URL' }, { rule: 'self.?url.orValue("") != "x"', message: 'optional syntax' });
    const findings = celFindings(mcpServer({ type: 'streamable-http', url: 'https://a.example.com' }), schema);
    expect(findings.map((finding) => [finding.rule, finding.action, finding.path])).toEqual([
      ['crd-cel-unchecked', 'warn', 'spec'],
      ['crd-cel-unchecked', 'warn', 'spec'],
    ]);
    expect(findings[0]?.message).toMatch(/^the CRD rule "optional syntax" \(self\.\?url\.orValue\(""\) != "x"\) is not checked here: this checker cannot parse it \(.+\); the API server checks it$/);
    expect(findings[1]?.message).toBe('the CRD rule "url must be a URL" (!has(self.url) || isURL(self.url)) is not checked here: this checker lacks the CEL function isURL; the API server checks it');
  });

  it('report a rule that fails to evaluate as the API server does: a failure, naming the rule', () => {
    const schema = crdWithSpecRules({ rule: 'self.command.size() > 0', message: 'command must not be empty' });
    const findings = celFindings(mcpServer({ type: 'streamable-http', url: 'https://a.example.com' }), schema);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'crd-cel-rule', action: 'deny', path: 'spec' });
    expect(findings[0]?.message).toMatch(/^Invalid value: "object": .+ evaluating rule: command must not be empty$/);
  });

  it('evaluate no rule on an object that breaks the schema, and say so in the API server words', () => {
    const findings = celFindings(mcpServer({ type: 'websocket', url: 'https://a.example.com' }));
    expect(findings.map((finding) => [finding.rule, finding.path, finding.message])).toEqual([
      ['crd-cel-unchecked', '', 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'],
    ]);
  });

  it('name a rule of ours for every CRD rule it stands for, exactly as the bundled CRD writes it', () => {
    const written = new Set<string>();
    const visit = (node: unknown): void => {
      if (typeof node !== 'object' || node === null) return;
      for (const rule of ((node as Record<string, unknown>)['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []) written.add(rule.rule);
      for (const child of Object.values(node)) visit(child);
    };
    visit(bundledCrd());
    const mirrored = RULES.flatMap((rule) => (rule.mirrorsCrdRule ? [rule.mirrorsCrdRule] : []));
    expect(mirrored.sort()).toEqual([...written].sort());
  });
});
