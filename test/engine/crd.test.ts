import { describe, expect, it } from 'vitest';
import { CrdError, isMCPServerCrd, MCPServerSchema, validate } from '../../src/engine/index.js';
import { schemaFromCrd } from '../../src/engine/crd.js';
import { mcpServer, remote } from '../fixtures.js';

/** A CRD of MCPServers with the spec schema given. */
const crd = (spec: Record<string, unknown>, version = 'v1alpha1') => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'mcpservers.muster.giantswarm.io' },
  spec: { group: 'muster.giantswarm.io', versions: [{ name: version, schema: { openAPIV3Schema: { type: 'object', properties: { spec } } } }] },
});

describe('a schema built from a CRD', () => {
  it('closes every object with properties, keeps maps open to their values, and honours preserve-unknown-fields', () => {
    const specSchema = {
      type: 'object',
      required: ['type'],
      'x-kubernetes-validations': [{ rule: 'self.type != ""' }],
      properties: {
        type: { type: 'string', enum: ['stdio'] },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { known: { type: 'string' } } },
        port: { 'x-kubernetes-int-or-string': true },
        when: { type: 'string', format: 'date-time' },
      },
    };
    const schema = schemaFromCrd(crd(specSchema));
    const spec = (schema.properties as Record<string, Record<string, unknown>>).spec!;
    expect(spec).toMatchObject({ title: 'MCPServerSpec', additionalProperties: false, required: ['type'] });
    // CEL rules are kept for src/engine/cel to evaluate; Ajv ignores them.
    expect(spec['x-kubernetes-validations']).toEqual([{ rule: 'self.type != ""' }]);
    const properties = spec.properties as Record<string, Record<string, unknown>>;
    expect(properties.headers).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(properties.extra).not.toHaveProperty('additionalProperties');
    expect(properties.port).toEqual({ anyOf: [{ type: 'integer' }, { type: 'string' }] });
    expect(properties.when).toEqual({ type: 'string' });

    const checked = MCPServerSchema.fromCrd(crd(specSchema), 'crd.yaml');
    expect(checked.check(mcpServer({ type: 'stdio', port: '8080', extra: { anything: 1 } }))).toEqual([]);
    expect(checked.check(mcpServer({ type: 'stdio', typo: 1 }))).toEqual([expect.objectContaining({ unknownField: true, field: ['spec', 'typo'] })]);
  });

  it('describes known patterns in words and quotes others', () => {
    const schema = MCPServerSchema.fromCrd(crd({ type: 'object', properties: { url: { type: 'string', pattern: '^https://[^\\s/$.?#].[^\\s]*$' }, code: { type: 'string', pattern: '^[0-9]{3}$' } } }), 'crd.yaml');
    expect(schema.check(mcpServer({ url: 'http://x', code: 'abc' })).map((issue) => issue.message)).toEqual([
      'must be an https:// URL with a host and no white space',
      'must be text matching ^[0-9]{3}$',
    ]);
  });

  it('takes defaults from the CRD: a value equal to one is not a setting', () => {
    const schema = MCPServerSchema.fromCrd(
      crd({ type: 'object', properties: { type: { type: 'string' }, url: { type: 'string' }, auth: { type: 'object', properties: { type: { type: 'string', default: 'oauth' } } } } }),
      'crd.yaml',
    );
    // Under this CRD's default, type: oauth is no setting; type: none is.
    expect(schema.view(remote({ auth: { type: 'oauth' } }))).toEqual({ type: 'streamable-http', url: 'https://mcp.example.com/mcp', auth: {} });
    expect(validate(remote({ auth: { type: 'none' } }), { context: 'manifest', schema }).allowed).toBe(true);
  });

  it('refuses what is not the MCPServer CRD, or has no v1alpha1, in words', () => {
    expect(isMCPServerCrd(crd({}))).toBe(true);
    expect(isMCPServerCrd({ ...crd({}), metadata: { name: 'mcpservers.toolhive.stacklok.dev' } })).toBe(false);
    expect(() => schemaFromCrd({ kind: 'ConfigMap' })).toThrow(new CrdError('not the CustomResourceDefinition mcpservers.muster.giantswarm.io'));
    expect(() => schemaFromCrd(crd({}, 'v1'))).toThrow('the CRD has no version v1alpha1');
    expect(() => schemaFromCrd({ ...crd({}), spec: { versions: [{ name: 'v1alpha1' }] } })).toThrow('openAPIV3Schema is missing');
  });
});
