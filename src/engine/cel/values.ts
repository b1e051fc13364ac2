import type { CelInput } from '@bufbuild/cel';
import { isPlainObject, type SchemaNode } from '../schema.js';

/**
 * An object as the API server holds it when it evaluates the CRD's CEL rules: every absent field
 * that has a default gets it (structural defaulting, done when the request is decoded, before any
 * validation: k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting/algorithm.go, called
 * from the decoder in pkg/apiserver/customresource_handler.go). Returns a copy; the input is left
 * alone.
 */
export function withDefaults(node: SchemaNode | undefined, value: unknown): unknown {
  if (!node) return value;
  if (Array.isArray(value)) return value.map((item) => withDefaults(node.items, item));
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    // Defined, never assigned, so that a `__proto__` key stays a plain key.
    Object.defineProperty(copy, key, { value: withDefaults(childNode(node, key), child), enumerable: true, writable: true, configurable: true });
  }
  for (const [key, property] of Object.entries(node.properties ?? {})) {
    if (property.default !== undefined && !Object.hasOwn(copy, key)) copy[key] = structuredClone(property.default);
  }
  return copy;
}

/** The schema of a field or map entry of an object, or undefined for a field the schema does not know. */
export function childNode(node: SchemaNode, key: string): SchemaNode | undefined {
  if (node.properties && Object.hasOwn(node.properties, key)) return node.properties[key];
  return typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
}

/**
 * A JSON value as CEL sees it, typed by its schema as the API server types it
 * (k8s.io/apiserver/pkg/cel/common/values.go): a whole number is an `int` unless the schema says
 * `number`, an object is a map from its field names, a list a list. A field the schema does not
 * know is left out, as the API server prunes it before validation; so a value nested deeper than
 * the schema is never walked.
 */
export function toCelInput(node: SchemaNode | undefined, value: unknown): CelInput {
  if (!node) return null;
  if (Array.isArray(value)) return value.map((item) => toCelInput(node.items, item));
  if (isPlainObject(value)) {
    const entries = Object.entries(value).flatMap(([key, child]): [string, CelInput][] => {
      const schema = childNode(node, key);
      return schema ? [[key, toCelInput(schema, child)]] : [];
    });
    return new Map(entries);
  }
  if (typeof value === 'number') return Number.isInteger(value) && node.type !== 'number' ? BigInt(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  return null;
}
