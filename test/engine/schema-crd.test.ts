import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from '../fixtures.js';

/**
 * The upstream CRD is the source of truth for the spec. This walks every property of the CRD's
 * spec and proves our schema has it with the same constraints, so the two cannot drift apart
 * unseen when the bundled upstream CRD is updated.
 */
interface OpenApiNode {
  type?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  minLength?: number;
  format?: string;
  default?: unknown;
  required?: string[];
  properties?: Record<string, OpenApiNode>;
  additionalProperties?: OpenApiNode | boolean;
  items?: OpenApiNode;
}

const CONSTRAINTS = ['type', 'enum', 'pattern', 'minimum', 'maximum', 'maxLength', 'minLength', 'format', 'default'] as const;

const crdFile = repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml');
const crd = load(readFileSync(crdFile, 'utf8')) as {
  spec: { versions: { name: string; schema: { openAPIV3Schema: OpenApiNode } }[] };
};
const crdSpec = crd.spec.versions.find((version) => version.name === 'v1alpha1')?.schema.openAPIV3Schema.properties?.spec;
const ourSpec = (JSON.parse(readFileSync(repositoryFile('schemas/mcpserver.v1alpha1.json'), 'utf8')) as OpenApiNode).properties?.spec;

/** Every node of a schema with its path: `auth.tokenExchange.connectorId`, `args[]`, `env{}`. */
function nodes(node: OpenApiNode, path = 'spec'): [string, OpenApiNode][] {
  const children: [string, OpenApiNode][] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) children.push(...nodes(child, `${path}.${name}`));
  if (node.items) children.push(...nodes(node.items, `${path}[]`));
  if (typeof node.additionalProperties === 'object') children.push(...nodes(node.additionalProperties, `${path}{}`));
  return [[path, node], ...children];
}

describe('schemas/mcpserver.v1alpha1.json against the upstream CRD', () => {
  const ours = new Map(nodes(ourSpec ?? {}));
  const theirs = nodes(crdSpec ?? {});

  it('reads a CRD spec with the fields we know are there', () => {
    expect(theirs.length).toBeGreaterThan(30);
    expect(theirs.map(([path]) => path)).toContain('spec.auth.authorizationServer.issuer');
  });

  it.each(theirs.map(([path, node]) => [path, node] as const))('has %s with the same constraints', (path, node) => {
    const mine = ours.get(path);
    expect(mine, `${path} is missing from our schema`).toBeDefined();
    for (const constraint of CONSTRAINTS) {
      if (node[constraint] !== undefined) expect(mine?.[constraint], `${path}: ${constraint}`).toEqual(node[constraint]);
    }
    for (const required of node.required ?? []) expect(mine?.required ?? [], `${path}: required`).toContain(required);
  });

  it('has no spec field the CRD does not have (the API server would prune it)', () => {
    const crdPaths = new Set(theirs.map(([path]) => path));
    expect([...ours.keys()].filter((path) => !crdPaths.has(path))).toEqual([]);
  });

  it('closes every object of the spec, so unknown fields are findings', () => {
    for (const [path, node] of ours) {
      if (node.type === 'object' && node.properties) expect(node.additionalProperties, path).toBe(false);
    }
  });
});
