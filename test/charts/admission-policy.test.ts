import { describe, expect, it } from 'vitest';
import { compileAdmissionPolicy, Policy } from '../../src/engine/index.js';
import { repositoryFile } from '../fixtures.js';
import { loadValues, templateDocuments, templateText } from './chart-files.js';

const NAME = 'validating-admission-policy.yaml';

describe("the chart's ValidatingAdmissionPolicy (templates/validating-admission-policy.yaml)", () => {
  const text = templateText(NAME);

  it('is the built-in policy as the engine compiles it today (npm run generate)', async () => {
    const generator = (await import(repositoryFile('scripts/generate.mjs').href)) as { admissionPolicyTemplate(engine: unknown): string };
    const engine = await import('../../src/engine/index.js');
    expect(text, 'run `npm run generate`').toBe(generator.admissionPolicyTemplate(engine));
  });

  it('is off by default, and rendered only where the API server serves the v1 kind', () => {
    expect(loadValues().validatingAdmissionPolicy).toEqual({ enabled: false });
    const [first, second] = text.split('\n');
    expect(first).toMatch(/^\{\{- \/\*.*\*\/\}\}$/);
    expect(second).toBe('{{- if and .Values.validatingAdmissionPolicy.enabled (.Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy") }}');
    expect(text.trimEnd().split('\n').at(-1)).toBe('{{- end }}');
  });

  it("holds every validation of the compiled policy, bound with its action where the webhook judges: its namespaceSelector and objectSelector", () => {
    const documents = templateDocuments(text) as { kind: string; spec: Record<string, unknown> }[];
    const compiled = compileAdmissionPolicy({ policy: Policy.builtIn() });
    const validations = documents.filter((document) => document.kind === 'ValidatingAdmissionPolicy').flatMap((document) => document.spec.validations as { expression: string }[]);
    expect(validations.map((validation) => validation.expression)).toEqual(compiled.validations.map((validation) => validation.expression));
    const bindings = documents.filter((document) => document.kind === 'ValidatingAdmissionPolicyBinding');
    expect(bindings.map((binding) => binding.spec.validationActions)).toEqual([['Deny'], ['Warn']]);
    // The same helper as the webhook's namespaceSelector, and the same objectSelector value.
    const webhook = templateText('validatingwebhookconfiguration.yaml');
    for (const scope of ['{{- include "mcpserver-webhook.namespaceSelector" . | nindent 6 }}', '{{- with .Values.webhook.objectSelector }}']) {
      expect(webhook).toContain(scope);
      expect(text.split(scope).length - 1, scope).toBe(bindings.length);
    }
  });
});
