import type { ErrorObject, ValidateFunction } from 'ajv';
import { CEL_RULES_NOT_CHECKED, CrdValidations } from './cel/crd-validations.js';
import { schemaFromCrd } from './crd.js';
import { formatPath, jsonPointer, pathKeys, type FieldPath } from './field-path.js';
import type { Fix } from './fix.js';
import { createAjv, isPlainObject, loadSchemaFile, projectToSchema, resolvePointer, type SchemaNode } from './schema.js';
import type { SpecView } from './spec-view.js';

/** A schema violation, already in words a person can act on (after the field's path). */
export interface SchemaIssue {
  readonly field: FieldPath;
  readonly message: string;
  /** A field the schema does not know: the API server refuses or drops it. */
  readonly unknownField: boolean;
  /** A value of the wrong type: rules that read the field do not see it (see projectToSchema). */
  readonly wrongType?: boolean;
  /** For an unknown field whose right name is known for sure: moving it there. */
  readonly fix?: Fix;
  /**
   * For a failure of one of the CRD's CEL rules: the rule's expression, and whether it could be
   * evaluated here (see CelRuleIssue). The message is then in the API server's words.
   */
  readonly celRule?: { readonly expression: string; readonly evaluated: boolean };
}

/**
 * Fields people put at the wrong level, and where they belong: an object's name and namespace
 * are metadata, and `tokenEndpoint` is what Muster's own docs once called dexTokenEndpoint
 * (docs/how-to/mcp-server-management.md, giantswarm/muster).
 */
const WELL_KNOWN_MOVES: Readonly<Record<string, FieldPath>> = {
  'spec.name': ['metadata', 'name'],
  'spec.namespace': ['metadata', 'namespace'],
  'spec.labels': ['metadata', 'labels'],
  'spec.annotations': ['metadata', 'annotations'],
  'spec.auth.tokenExchange.tokenEndpoint': ['spec', 'auth', 'tokenExchange', 'dexTokenEndpoint'],
};

/**
 * The schema errors after which the API server evaluates no CEL rule, because the object does not
 * have the shape the rules were written for: a wrong type, a value outside an enum, a required
 * field missing, a string, list or map too long (hasBlockingErr in
 * k8s.io/apiextensions-apiserver/pkg/registry/customresource/strategy.go), here as Ajv keywords.
 */
const BLOCKS_CEL_RULES = new Set(['type', 'enum', 'required', 'anyOf', 'maxLength', 'maxItems', 'maxProperties']);

/**
 * The MCPServer schema the engine checks against: the bundled one, generated from the upstream
 * CRD in `schemas/upstream/`, or one built from the CRD a cluster runs (`validate --crd`).
 * Compiled once; checking an object never compiles anything.
 */
export class MCPServerSchema {
  static #builtIn: MCPServerSchema | undefined;

  /** The schema of `schemas/mcpserver.v1alpha1.json`, loaded on first use. */
  static builtIn(): MCPServerSchema {
    MCPServerSchema.#builtIn ??= new MCPServerSchema(loadSchemaFile('mcpserver.v1alpha1.json'), 'built-in');
    return MCPServerSchema.#builtIn;
  }

  /** Throws a CrdError that says what is wrong with the CRD. */
  static fromCrd(crd: unknown, source: string): MCPServerSchema {
    return new MCPServerSchema(schemaFromCrd(crd), source);
  }

  readonly #validate: ValidateFunction;
  readonly #celRules: CrdValidations;

  private constructor(
    readonly root: SchemaNode,
    /** Where the schema came from, for messages: `built-in`, or a CRD's file. */
    readonly source: string,
  ) {
    this.#validate = createAjv().compile(root);
    this.#celRules = new CrdValidations(root);
  }

  /** What the CRD refuses in the object: its schema first, then its CEL rules, as the API server checks them. */
  check(object: unknown): SchemaIssue[] {
    const errors = this.#validate(object) ? [] : (this.#validate.errors ?? []);
    const issues = errors.flatMap((error) => this.#describe(error, object));
    if (!this.#celRules.any) return issues;
    if (errors.some((error) => BLOCKS_CEL_RULES.has(error.keyword))) {
      return [...issues, { field: [], message: CEL_RULES_NOT_CHECKED, unknownField: false, celRule: { expression: '', evaluated: false } }];
    }
    const celIssues = this.#celRules.check(object).map(({ field, message, rule, evaluated }) => ({ field, message, unknownField: false, celRule: { expression: rule, evaluated } }));
    return [...issues, ...celIssues];
  }

  /** The typed view of an object's spec, defaults left out, or undefined when it has none worth reading. */
  view(object: unknown): SpecView | undefined {
    const spec = isPlainObject(object) ? object.spec : undefined;
    return isPlainObject(spec) ? (projectToSchema(this.root.properties?.spec, spec) as SpecView) : undefined;
  }

  /**
   * Turns an Ajv error into a finding with a Kubernetes field path and words that say how to fix
   * it. Never quotes the offending value: it may be a secret in the wrong field.
   */
  #describe(error: ErrorObject, object: unknown): SchemaIssue[] {
    const { field, node } = resolvePointer(this.root, error.instancePath);
    const at = (path: FieldPath, problem: string, extra: Partial<SchemaIssue> = {}): SchemaIssue[] => [
      { field: path, message: path.length > 0 ? problem : `the object ${problem}`, unknownField: false, ...extra },
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
        const suggestion = this.#suggestField(node, field, name);
        const fix = suggestion && this.#moveFix(object, unknown, suggestion);
        return at(
          unknown,
          'is not a field of MCPServer: the API server refuses it, or drops it without a word when field validation is off, ' +
            `so the setting never takes effect: ${suggestion ? `did you mean ${formatPath(suggestion)}?` : 'remove it or fix its name'}`,
          { unknownField: true, ...(fix ? { fix } : {}) },
        );
      }
      case 'type':
        return at(field, `must be ${describeType(String(error.params.type), field)}`, { wrongType: true });
      case 'enum':
        return at(field, `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`);
      case 'const':
        return at(field, `must be ${String(error.params.allowedValue)}`);
      case 'pattern':
        return at(field, `must be ${parent?.['x-pattern-description'] ?? `text matching ${String(error.params.pattern)}`}`);
      case 'maxLength':
        return at(field, `must be at most ${String(error.params.limit)} characters long`);
      case 'minLength':
        return at(field, `must be at least ${String(error.params.limit)} characters long`);
      case 'maxItems':
        return at(field, `must have at most ${String(error.params.limit)} items`);
      case 'minimum':
        return at(field, `must be at least ${String(error.params.limit)}`);
      case 'maximum':
        return at(field, `must be at most ${String(error.params.limit)}`);
      default:
        return at(field, `does not satisfy the schema (${error.keyword})`);
    }
  }

  /**
   * Where an unknown field belongs: a well-known move (`spec.name` is `metadata.name`), a near name
   * at the same level (a typo), or the one field of that name elsewhere in the spec (a field at the
   * wrong level). A name found in several places (`name`, `type`) suggests nothing: a guess
   * between them would mislead.
   */
  #suggestField(parent: SchemaNode | undefined, parentPath: FieldPath, name: string): FieldPath | undefined {
    const move = WELL_KNOWN_MOVES[formatPath([...parentPath, name])];
    if (move) return move;
    const lower = name.toLowerCase();
    const siblings = Object.keys(parent?.properties ?? {});
    const sibling =
      siblings.find((candidate) => candidate.toLowerCase() === lower) ??
      // Names whose lengths differ by more than 2 are more than 2 edits apart: skipping them keeps a
      // megabyte-long key from costing seconds (editDistance takes time in the product of the lengths).
      siblings.find((candidate) => name.length > 3 && Math.abs(candidate.length - lower.length) <= 2 && editDistance(candidate.toLowerCase(), lower) <= 2);
    if (sibling) return [...parentPath, sibling];

    const elsewhere: FieldPath[] = [];
    const visit = (node: SchemaNode, path: string[]): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (key.toLowerCase() === lower) elsewhere.push([...path, key]);
        visit(child, [...path, key]);
      }
    };
    const spec = this.root.properties?.spec;
    if (spec) visit(spec, ['spec']);
    return elsewhere.length === 1 ? elsewhere[0] : undefined;
  }

  /**
   * Moving the field to where it belongs, when that is sure to work: the place is free, its parent
   * exists, and the value has the type the place takes. Otherwise the message names the place and
   * the person moves it.
   */
  #moveFix(object: unknown, from: FieldPath, to: FieldPath): Fix | undefined {
    const value = valueAt(object, pathKeys(from));
    const parent = valueAt(object, pathKeys(to.slice(0, -1)));
    const target = resolvePointer(this.root, jsonPointer(to)).node;
    if (!isPlainObject(parent) || Object.hasOwn(parent, String(to[to.length - 1])) || !fits(target, value)) return undefined;
    return {
      description: `rename ${formatPath(from)} to ${formatPath(to)}`,
      patch: [{ op: 'move', from: jsonPointer(from), path: jsonPointer(to) }],
      safe: true,
    };
  }
}

function valueAt(object: unknown, keys: readonly (string | number)[]): unknown {
  let value = object;
  for (const key of keys) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/**
 * Whether the value fits a schema node, as far as a moved value must: its type, and for a string its
 * enum and pattern (a node without a type takes anything).
 */
function fits(node: SchemaNode | undefined, value: unknown): boolean {
  if (node?.enum && !node.enum.includes(value)) return false;
  if (node?.pattern && !(typeof value === 'string' && new RegExp(node.pattern, 'u').test(value))) return false;
  switch (node?.type) {
    case undefined:
      return node !== undefined;
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return false;
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
