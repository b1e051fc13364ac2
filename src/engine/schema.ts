import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { Ajv } from 'ajv';
import { mapKey, type PathSegment } from './field-path.js';

/** The subset of JSON Schema that our schemas use, enough to walk them. */
export interface SchemaNode {
  readonly type?: string;
  readonly title?: string;
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly default?: unknown;
  readonly pattern?: string;
  readonly 'x-pattern-description'?: string;
  /** The CRD's CEL rules at this node, kept from the CRD (see src/engine/cel/crd-validations.ts). */
  readonly 'x-kubernetes-validations'?: readonly ValidationRule[];
  readonly anyOf?: readonly SchemaNode[];
  readonly $ref?: string;
}

/**
 * One of a CRD's CEL rules, as `x-kubernetes-validations` holds it
 * (k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/types_jsonschema.go, ValidationRule).
 */
export interface ValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  /** A relative JSON path from the rule's node to the field its failure is reported on, e.g. `.url`. */
  readonly fieldPath?: string;
  /** FieldValueInvalid (the default), FieldValueRequired, FieldValueForbidden or FieldValueDuplicate. */
  readonly reason?: string;
}

/** Reads a JSON Schema shipped in `schemas/` (the same relative place from `src/` and `dist/`). */
export function loadSchemaFile(name: string): SchemaNode & Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
}

/** One Ajv for every schema of ours: compiled once at start-up, never per object. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  ajv.addVocabulary(['x-pattern-description', 'x-kubernetes-validations']);
  return ajv;
}

/** Follows a JSON pointer through the schema, so map keys become `[key]` and fields `.field`. */
export function resolvePointer(root: SchemaNode, pointer: string): { field: PathSegment[]; node: SchemaNode | undefined } {
  const field: PathSegment[] = [];
  let node: SchemaNode | undefined = root;
  if (pointer === '') return { field, node };
  for (const raw of pointer.slice(1).split('/')) {
    node = dereference(root, node);
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const property: SchemaNode | undefined = node?.properties?.[segment];
    if (property) {
      field.push(segment);
      node = property;
    } else if (node?.items && /^\d+$/.test(segment)) {
      field.push(Number(segment));
      node = node.items;
    } else if (node && typeof node.additionalProperties === 'object') {
      field.push(mapKey(segment));
      node = node.additionalProperties;
    } else {
      field.push(segment);
      node = undefined;
    }
  }
  return { field, node: dereference(root, node) };
}

/** Follows a local `$ref` such as `#/definitions/ruleActions`. */
function dereference(root: SchemaNode, node: SchemaNode | undefined): SchemaNode | undefined {
  if (!node?.$ref?.startsWith('#/')) return node;
  let target: unknown = root;
  for (const part of node.$ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part];
  return dereference(root, target as SchemaNode | undefined);
}

/**
 * Keeps each field whose value has the type the schema gives it and drops the rest, so the
 * rules read a typed view and never trip over `headers: 42`. Unknown fields are dropped too, and
 * so is a field whose value is its schema default: the API server fills defaults in before any
 * webhook sees the object, so a default is never something the user set (an object judged as a
 * file and as the API server sends it must get the same verdict). A `__proto__` key is defined,
 * never assigned, so it stays a plain key.
 */
export function projectToSchema(node: SchemaNode | undefined, value: unknown): unknown {
  if (!node?.type) return value;
  switch (node.type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'integer':
      return Number.isInteger(value) ? value : undefined;
    case 'array':
      return Array.isArray(value)
        ? value.map((item) => projectToSchema(node.items, item)).filter((item) => item !== undefined)
        : undefined;
    case 'object': {
      if (!isPlainObject(value)) return undefined;
      const view: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        const childNode = Object.hasOwn(node.properties ?? {}, key)
          ? node.properties?.[key]
          : typeof node.additionalProperties === 'object'
            ? node.additionalProperties
            : undefined;
        if (!childNode) continue;
        const projected = projectToSchema(childNode, child);
        if (projected === undefined || isDefault(childNode, projected)) continue;
        // Assigning `__proto__` would set the prototype; defining it for every key is slow.
        if (key === '__proto__') Object.defineProperty(view, key, { value: projected, enumerable: true, writable: true, configurable: true });
        else view[key] = projected;
      }
      return view;
    }
    default:
      return value;
  }
}

function isDefault(node: SchemaNode, value: unknown): boolean {
  if (node.default === undefined) return false;
  return typeof value === 'object' ? isDeepStrictEqual(value, node.default) : value === node.default;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
