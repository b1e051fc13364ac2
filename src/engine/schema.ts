import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { formatPath, mapKey, type FieldPath, type PathSegment } from './field-path.js';
import type { SpecView } from './spec-view.js';

/** The subset of JSON Schema that our schemas use, enough to walk them. */
export interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly 'x-pattern-description'?: string;
  readonly anyOf?: readonly SchemaNode[];
  readonly $ref?: string;
}

/** A schema violation, already in words a person can act on. */
export interface SchemaIssue {
  readonly field: FieldPath;
  readonly message: string;
  /** A field the schema does not know: the API server would drop it silently. */
  readonly unknownField: boolean;
}

/** Reads a JSON Schema shipped in `schemas/` (the same relative place from `src/` and `dist/`). */
export function loadSchemaFile(name: string): SchemaNode & Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
}

/** One Ajv for every schema of ours: compiled once at start-up, never per object. */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, verbose: true });
  ajv.addVocabulary(['x-pattern-description']);
  return ajv;
}

export const MCPSERVER_SCHEMA = loadSchemaFile('mcpserver.v1alpha1.json');
const validateAgainstSchema = createAjv().compile(MCPSERVER_SCHEMA);

export function checkSchema(object: unknown): SchemaIssue[] {
  if (validateAgainstSchema(object)) return [];
  return (validateAgainstSchema.errors ?? []).flatMap((error) => describeError(error));
}

/**
 * Turns an Ajv error into a finding with a Kubernetes field path and a sentence that says
 * how to fix it. Never quotes the offending value: it may be a secret in the wrong field.
 */
export function describeError(error: ErrorObject, root: SchemaNode = MCPSERVER_SCHEMA): SchemaIssue[] {
  const { field, node } = resolvePointer(root, error.instancePath);
  const at = (path: FieldPath, problem: string, unknownField = false): SchemaIssue[] => [
    { field: path, message: `${formatPath(path) || 'the object'} ${problem}`, unknownField },
  ];
  const parent = error.parentSchema as SchemaNode | undefined;

  switch (error.keyword) {
    case 'required': {
      // The alternatives of an anyOf are reported once, by the anyOf itself.
      if (error.schemaPath.includes('/anyOf/')) return [];
      const missing = String(error.params.missingProperty);
      const child = node?.properties?.[missing];
      const hint = child?.enum ? `: set it to one of ${child.enum.join(', ')}` : '';
      return at([...field, missing], `is required${hint}`);
    }
    case 'anyOf': {
      // Only metadata uses anyOf: a name, or a generateName from which the API server makes one.
      const [first = 'name', ...others] = (parent?.anyOf ?? []).flatMap((branch) => branch.required ?? []);
      const alternatives = others.map((name) => formatPath([...field, name])).join(' or ');
      return at([...field, first], `is required${alternatives ? ` (or ${alternatives})` : ''}`);
    }
    case 'additionalProperties': {
      const name = String(error.params.additionalProperty);
      const unknown = [...field, name];
      const suggestion = suggestField(root, node, field, name);
      return at(
        unknown,
        'is not a field of MCPServer; the API server drops unknown fields without a word, so this setting would ' +
          `have no effect: ${suggestion ? `did you mean ${suggestion}?` : 'remove it or fix its name'}`,
        true,
      );
    }
    case 'type':
      return at(field, `must be ${describeType(String(error.params.type), field)}`);
    case 'enum':
      return at(field, `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`);
    case 'const':
      return at(field, `must be ${String(error.params.allowedValue)}`);
    case 'pattern':
      return at(field, `must be ${parent?.['x-pattern-description'] ?? `text matching ${String(error.params.pattern)}`}`);
    case 'maxLength':
      return at(field, `must be at most ${String(error.params.limit)} characters long`);
    case 'minimum':
      return at(field, `must be at least ${String(error.params.limit)}`);
    case 'maximum':
      return at(field, `must be at most ${String(error.params.limit)}`);
    default:
      return at(field, `does not satisfy the schema (${error.keyword})`);
  }
}

function describeType(type: string, field: FieldPath): string {
  const inMap = typeof field[field.length - 1] === 'object';
  switch (type) {
    case 'string':
      return inMap ? 'a string (quote numbers and booleans in YAML)' : 'a string';
    case 'integer':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a map of fields';
    default:
      return `of type ${type}`;
  }
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

/** A near sibling name (a typo), or the same name elsewhere in the spec (a field at the wrong level). */
function suggestField(root: SchemaNode, parent: SchemaNode | undefined, parentPath: FieldPath, name: string): string | undefined {
  const lower = name.toLowerCase();
  const siblings = Object.keys(parent?.properties ?? {});
  const sibling =
    siblings.find((candidate) => candidate.toLowerCase() === lower) ??
    // Names whose lengths differ by more than 2 are more than 2 edits apart: skipping them keeps a
    // megabyte-long key from costing seconds (editDistance takes time in the product of the lengths).
    siblings.find((candidate) => name.length > 3 && Math.abs(candidate.length - lower.length) <= 2 && editDistance(candidate.toLowerCase(), lower) <= 2);
  if (sibling) return formatPath([...parentPath, sibling]);

  const elsewhere: string[] = [];
  const visit = (node: SchemaNode, path: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      if (key.toLowerCase() === lower) elsewhere.push(formatPath([...path, key]));
      visit(child, [...path, key]);
    }
  };
  const spec = root.properties?.spec;
  if (spec) visit(spec, ['spec']);
  return elsewhere.sort()[0];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * Keeps each field whose value has the type the schema gives it and drops the rest, so the
 * rules read a typed view and never trip over `headers: 42`. Unknown fields are dropped too.
 * A `__proto__` key is defined, never assigned, so it stays a plain key.
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
        if (projected === undefined) continue;
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

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The typed view of an object's spec, or undefined when it has none worth reading. */
export function specView(object: unknown): SpecView | undefined {
  const spec = isPlainObject(object) ? object.spec : undefined;
  const specNode = MCPSERVER_SCHEMA.properties?.spec;
  return isPlainObject(spec) ? (projectToSchema(specNode, spec) as SpecView) : undefined;
}
