import { mapKey, type FieldPath, type PathSegment } from '../field-path.js';
import { isPlainObject, type SchemaNode, type ValidationRule } from '../schema.js';
import { compileCel, type CompiledCel } from './evaluator.js';
import { childNode, toCelInput, withDefaults } from './values.js';

/**
 * The CRD's own CEL rules (`x-kubernetes-validations`), evaluated on an object as the API server
 * evaluates them (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go,
 * `validateExpressions`) and reported in its words: the path of the rule's node (and its
 * `fieldPath`), then `Invalid value: "<the node's type>": <message>` (or `Required value:`,
 * `Forbidden:`, `Duplicate value:` by `reason`), the message being the evaluated
 * `messageExpression`, else `message`, else `failed rule: <rule>`. kubectl prints the path of the
 * object as a whole as `<nil>`; here it is the empty path. The value itself is never quoted, only
 * its type: a value may be a secret.
 */
export interface CelRuleIssue {
  readonly field: FieldPath;
  /** What follows the path, in the API server's words. */
  readonly message: string;
  /** The rule's expression, as the CRD writes it: what a rule of ours names when it stands for it. */
  readonly rule: string;
  /** False for a rule this checker could not evaluate: the message says why and quotes the rule. */
  readonly evaluated: boolean;
}

interface CompiledRule {
  readonly source: ValidationRule;
  readonly program: CompiledCel;
  readonly message: CompiledCel | undefined;
}

/** The API server's words when schema errors keep it from evaluating any CEL rule (hasBlockingErr in pkg/registry/customresource/strategy.go). */
export const CEL_RULES_NOT_CHECKED = 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';

/** Every CEL rule of a schema, compiled once; checking an object compiles nothing. */
export class CrdValidations {
  readonly #rules = new Map<SchemaNode, CompiledRule[]>();

  constructor(private readonly root: SchemaNode) {
    const visit = (node: SchemaNode): void => {
      const rules = node['x-kubernetes-validations'] ?? [];
      if (rules.length > 0) {
        this.#rules.set(
          node,
          rules.map((source) => ({ source, program: compileCel(source.rule), message: source.messageExpression ? compileCel(source.messageExpression) : undefined })),
        );
      }
      for (const child of Object.values(node.properties ?? {})) visit(child);
      if (typeof node.additionalProperties === 'object') visit(node.additionalProperties);
      if (node.items) visit(node.items);
    };
    visit(root);
  }

  /** True when the schema has any CEL rule at all. */
  get any(): boolean {
    return this.#rules.size > 0;
  }

  /** The failures of the CRD's rules on an object, defaults applied first as the API server does. */
  check(object: unknown): CelRuleIssue[] {
    const issues: CelRuleIssue[] = [];
    const visit = (node: SchemaNode, value: unknown, path: PathSegment[]): void => {
      // Rules run on values that are there and not null (validateExpressions skips a nil object).
      if (value === undefined || value === null) return;
      for (const rule of this.#rules.get(node) ?? []) {
        const issue = evaluateRule(rule, node, value, path);
        if (issue) issues.push(issue);
      }
      if (Array.isArray(value)) {
        if (node.items) value.forEach((item, index) => visit(node.items as SchemaNode, item, [...path, index]));
      } else if (isPlainObject(value)) {
        for (const [key, child] of Object.entries(value)) {
          const known = node.properties && Object.hasOwn(node.properties, key);
          const schema = childNode(node, key);
          if (schema) visit(schema, child, [...path, known ? key : mapKey(key)]);
        }
      }
    };
    visit(this.root, withDefaults(this.root, object), []);
    return issues;
  }
}

function evaluateRule({ source, program, message }: CompiledRule, node: SchemaNode, value: unknown, path: PathSegment[]): CelRuleIssue | undefined {
  const type = node.type ?? '';
  if (program.kind === 'unsupported') {
    return {
      field: path,
      message: `the CRD rule ${JSON.stringify(ruleText(source))} (${source.rule.trim()}) is not checked here: ${program.reason}; the API server checks it`,
      rule: source.rule,
      evaluated: false,
    };
  }
  const self = toCelInput(node, value);
  const outcome = program.evaluate({ self });
  if (outcome.kind === 'error') {
    return { field: path, message: `Invalid value: ${JSON.stringify(type)}: ${outcome.message} evaluating rule: ${ruleText(source)}`, rule: source.rule, evaluated: true };
  }
  if (outcome.value === true) return undefined;
  const detail = evaluatedMessage(message, self) ?? ruleMessageOrDefault(source);
  return { field: [...path, ...relativePath(node, source.fieldPath)], message: fieldError(source.reason, type, detail), rule: source.rule, evaluated: true };
}

/** The message, else the rule itself: what the API server names a rule by (ruleErrorString). */
function ruleText(rule: ValidationRule): string {
  return rule.message?.trim() || rule.rule.trim();
}

function ruleMessageOrDefault(rule: ValidationRule): string {
  return rule.message?.trim() || `failed rule: ${rule.rule.trim()}`;
}

/**
 * A messageExpression's string, trimmed; undefined when it cannot be used (it fails, is not a
 * non-empty string on one line, or cannot be evaluated here), and the message is used instead, as
 * the API server does for a messageExpression that fails at run time.
 */
function evaluatedMessage(message: CompiledCel | undefined, self: ReturnType<typeof toCelInput>): string | undefined {
  if (message?.kind !== 'program') return undefined;
  const outcome = message.evaluate({ self });
  if (outcome.kind !== 'value' || typeof outcome.value !== 'string') return undefined;
  const text = outcome.value.trim();
  return text === '' || text.includes('\n') ? undefined : text;
}

/** How k8s.io/apimachinery/pkg/util/validation/field prints an error after its path, by the rule's reason. */
function fieldError(reason: string | undefined, type: string, detail: string): string {
  switch (reason) {
    case 'FieldValueRequired':
      return `Required value: ${detail}`;
    case 'FieldValueForbidden':
      return `Forbidden: ${detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${JSON.stringify(type)}`;
    default:
      return `Invalid value: ${JSON.stringify(type)}: ${detail}`;
  }
}

/**
 * A rule's `fieldPath` (`.url`, `.headers['X-Tenant']`) as path segments below its node. The API
 * server refuses a CRD whose fieldPath does not parse or names no field; here such a path is left
 * out, and the failure is reported on the rule's node.
 */
function relativePath(node: SchemaNode, fieldPath: string | undefined): PathSegment[] {
  if (!fieldPath) return [];
  const segments: PathSegment[] = [];
  let current: SchemaNode | undefined = node;
  const token = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/y;
  while (token.lastIndex < fieldPath.length) {
    const match = token.exec(fieldPath);
    if (!match || !current) return [];
    const name = match[1] ?? (match[2] ?? '').replace(/\\(.)/g, '$1');
    const named: boolean = current.properties !== undefined && Object.hasOwn(current.properties, name);
    segments.push(named ? name : mapKey(name));
    current = childNode(current, name);
  }
  return segments;
}
