import { MCPSERVER_RESOURCE } from './resource.js';
import { isPlainObject, type SchemaNode } from './schema.js';

/**
 * The MCPServer JSON Schema, built from a CustomResourceDefinition: the field set, types, enums,
 * patterns, defaults and limits come from the CRD's `openAPIV3Schema` for v1alpha1, so `validate
 * --crd` checks manifests against the CRD a cluster really runs. The bundled schema
 * (`schemas/mcpserver.v1alpha1.json`) is this function's output for the upstream CRD in
 * `schemas/upstream/` (`npm run generate`). The envelope (apiVersion, kind, metadata) is ours:
 * a CRD says only `metadata: {type: object}`, and the API server checks names itself.
 */
export function schemaFromCrd(crd: unknown): SchemaNode & Record<string, unknown> {
  const root = crdVersionSchema(crd);
  const spec = root.properties?.spec;
  if (!isPlainObject(spec)) throw new CrdError(`version ${MCPSERVER_RESOURCE.version} of the CRD has no spec schema`);
  const { group, version, kind } = MCPSERVER_RESOURCE;
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `mcpserver-webhook/mcpserver.${version}.json`,
    title: kind,
    description: `A Muster ${kind} (${group}/${version}), as the CRD's openAPIV3Schema describes it, with every object closed so that unknown fields are findings. The CRD's CEL rules (x-kubernetes-validations) are kept, and evaluated as the API server does (src/engine/cel).`,
    type: 'object',
    ...(root['x-kubernetes-validations'] ? { 'x-kubernetes-validations': root['x-kubernetes-validations'] } : {}),
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      apiVersion: { type: 'string', const: `${group}/${version}` },
      kind: { type: 'string', const: kind },
      metadata: OBJECT_META,
      spec: convert(spec, `${kind}Spec`, 'spec'),
      status: { type: 'object' },
    },
  };
}

/** A CRD that cannot be used to check MCPServers; the message names the field or says what is missing. */
export class CrdError extends Error {
  override readonly name = 'CrdError';
}

/** True for the CustomResourceDefinition of Muster's MCPServers, whatever its version. */
export function isMCPServerCrd(document: unknown): boolean {
  if (!isPlainObject(document) || document.kind !== 'CustomResourceDefinition') return false;
  const { group, plural } = MCPSERVER_RESOURCE;
  const metadata = isPlainObject(document.metadata) ? document.metadata : {};
  return metadata.name === `${plural}.${group}`;
}

function crdVersionSchema(crd: unknown): SchemaNode {
  const { group, plural, version } = MCPSERVER_RESOURCE;
  if (!isMCPServerCrd(crd)) throw new CrdError(`not the CustomResourceDefinition ${plural}.${group}`);
  const spec = isPlainObject(crd) && isPlainObject(crd.spec) ? crd.spec : {};
  const versions = Array.isArray(spec.versions) ? spec.versions : [];
  const served = versions.find((candidate) => isPlainObject(candidate) && candidate.name === version);
  if (!isPlainObject(served)) throw new CrdError(`the CRD has no version ${version}: this webhook checks ${group}/${version}`);
  const schema = isPlainObject(served.schema) ? served.schema.openAPIV3Schema : undefined;
  if (!isPlainObject(schema)) throw new CrdError(`spec.versions[${version}].schema.openAPIV3Schema is missing`);
  return schema as SchemaNode;
}

/** Keywords of a structural schema that JSON Schema checks the same way; the rest are dropped. */
const KEPT = ['type', 'description', 'enum', 'pattern', 'default', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'x-kubernetes-validations'] as const;
const KEPT_COUNTS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'uniqueItems'] as const;

/**
 * One node of the CRD's schema as JSON Schema. An object with properties is closed
 * (`additionalProperties: false`) unless the CRD preserves unknown fields there; a map keeps its
 * value schema. `format` is dropped (the API server checks it, and JSON Schema formats differ).
 * CEL rules (`x-kubernetes-validations`) are kept as they are: Ajv ignores them, and
 * src/engine/cel evaluates them.
 */
function convert(node: Record<string, unknown>, title: string | undefined, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (title && isPlainObject(node.properties)) out.title = title;
  for (const key of [...KEPT, ...KEPT_COUNTS]) if (node[key] !== undefined) out[key] = node[key];
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (typeof node.pattern === 'string') {
    checkPattern(node.pattern, path);
    const words = PATTERN_DESCRIPTIONS[node.pattern];
    if (words) out['x-pattern-description'] = words;
  }
  if (Array.isArray(node.required)) out.required = node.required;
  if (isPlainObject(node.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(node.properties).map(([name, child]) => [name, convert(isPlainObject(child) ? child : {}, pascalCase(name), `${path}.${name}`)]),
    );
    if (node['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  }
  if (isPlainObject(node.additionalProperties)) out.additionalProperties = convert(node.additionalProperties, undefined, `${path}{}`);
  if (isPlainObject(node.items)) out.items = convert(node.items, undefined, `${path}[]`);
  for (const combinator of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = node[combinator];
    if (Array.isArray(branches)) out[combinator] = branches.map((branch) => convert(isPlainObject(branch) ? branch : {}, undefined, path));
  }
  return out;
}

function checkPattern(pattern: string, path: string): void {
  try {
    new RegExp(pattern, 'u');
  } catch {
    throw new CrdError(`the pattern of ${path} is not a regular expression this checker can use`);
  }
}

function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/**
 * The CRD's patterns in words, for messages a person can act on. A pattern not listed here (a
 * newer CRD's) is quoted as it is.
 */
const PATTERN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  '^https?://[^\\s/$.?#].[^\\s]*$': 'an http:// or https:// URL with a host and no white space',
  '^https://[^\\s/$.?#].[^\\s]*$': 'an https:// URL with a host and no white space',
  '^https://[^/?#]+(/[^?#]*[^/?#])?$': 'an https:// URL with no trailing slash, query or fragment (RFC 8414)',
  '^[a-zA-Z][a-zA-Z0-9_-]*$': "a letter followed by letters, digits, '_' or '-'",
  '^[a-zA-Z][a-zA-Z0-9_]*$': "a letter followed by letters, digits or '_'",
};

/** The metadata every object needs to be stored: a name (or a generateName to make one from). */
const OBJECT_META = {
  title: 'ObjectMeta',
  type: 'object',
  anyOf: [{ required: ['name'] }, { required: ['generateName'] }],
  properties: {
    name: {
      type: 'string',
      maxLength: 253,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      'x-pattern-description': "a lowercase RFC 1123 name: letters a-z, digits, '-' and '.', starting and ending with a letter or digit",
    },
    generateName: { type: 'string' },
    namespace: {
      type: 'string',
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      'x-pattern-description': "a lowercase RFC 1123 label: letters a-z, digits and '-', starting and ending with a letter or digit",
    },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
