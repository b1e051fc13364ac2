import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { isPlainObject, validate, type Context, type Verdict } from '../../src/engine/index.js';
import { readExample, recordedReview, repositoryFile } from '../fixtures.js';
import { mcpServerObject } from './arbitraries.js';

interface CrdNode {
  default?: unknown;
  properties?: Record<string, CrdNode>;
  additionalProperties?: CrdNode | boolean;
  items?: CrdNode;
}

/** The spec's schema as the bundled upstream CRD has it: the defaults come from there, not from us. */
const crd = load(readFileSync(repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml'), 'utf8')) as {
  spec: { versions: { name: string; schema: { openAPIV3Schema: CrdNode } }[] };
};
const crdRoot = crd.spec.versions.find((version) => version.name === 'v1alpha1')?.schema.openAPIV3Schema ?? {};

/**
 * What the API server does before any webhook sees an object: every field with a default that is
 * absent from an object that exists gets its default (structural defaulting of CRDs). Returns a copy.
 */
function applyCrdDefaults(value: unknown, node: CrdNode | undefined): unknown {
  if (!node) return value;
  if (Array.isArray(value)) return value.map((item) => applyCrdDefaults(item, node.items));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childNode = node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
    Object.defineProperty(copy, key, { value: applyCrdDefaults(child, childNode), enumerable: true, writable: true, configurable: true });
  }
  for (const [key, childNode] of Object.entries(node.properties ?? {})) {
    if (childNode.default !== undefined && !Object.hasOwn(copy, key)) copy[key] = structuredClone(childNode.default);
  }
  return copy;
}

/** What a person and a tool see of a verdict: the decision, and each finding's rule, field, action and words. */
function seen(verdict: Verdict) {
  return {
    allowed: verdict.allowed,
    findings: [...verdict.denials, ...verdict.warnings, ...verdict.audits].map(({ rule, path, action, message }) => ({ rule, path, action, message })),
  };
}

const CONTEXTS: Context[] = ['manifest', 'admission'];

describe('values equal to their CRD default', () => {
  it('fill in what the recorded API server filled in (the defaulting here is the real one)', () => {
    const written = readExample('invalid/token-exchange-disabled-fields.yaml');
    const sent = recordedReview('018').review.request.object as Record<string, unknown>;
    expect(applyCrdDefaults(written, crdRoot)).toMatchObject({ spec: (sent as { spec: unknown }).spec });
  });

  it('are never reported as set: the manifest and the object the API server sent get the same verdict', () => {
    const written = readExample('invalid/token-exchange-disabled-fields.yaml');
    const sent = recordedReview('018').review.request.object;
    for (const context of CONTEXTS) {
      expect(seen(validate(sent, { context }))).toEqual(seen(validate(written, { context })));
      const warning = validate(sent, { context }).warnings.find((finding) => finding.rule === 'token-exchange-disabled-fields');
      expect(warning?.message).toContain('sets connectorId and dexTokenEndpoint,');
      expect(warning?.message).not.toContain('scopes');
    }
  });

  it('never change a decision or a finding, on any object', () => {
    fc.assert(
      fc.property(mcpServerObject, fc.constantFrom(...CONTEXTS), (object, context) => {
        const defaulted = isPlainObject(object) ? { ...object, spec: applyCrdDefaults(object.spec, crdRoot.properties?.spec) } : object;
        expect(seen(validate(defaulted, { context }))).toEqual(seen(validate(object, { context })));
      }),
      { numRuns: 2000 },
    );
  });

  it('are left out however they were written: an explicit default is no setting either', () => {
    const explicit = readExample('invalid/token-exchange-disabled-fields.yaml') as { spec: { auth: { tokenExchange: Record<string, unknown> } } };
    explicit.spec.auth.tokenExchange.scopes = 'openid profile email groups';
    const [warning] = validate(explicit, { context: 'manifest' }).warnings;
    expect(warning?.message).not.toContain('scopes');
    explicit.spec.auth.tokenExchange.scopes = 'openid groups';
    expect(validate(explicit, { context: 'manifest' }).warnings[0]?.message).toContain('sets connectorId, dexTokenEndpoint and scopes');
  });
});
