import { Policy, type NamespaceInfo } from './policy.js';
import type { Subject } from './rule.js';
import { RULES } from './rules/index.js';
import { checkSchema, isPlainObject, specView, type SchemaIssue } from './schema.js';
import { buildVerdict, type Context, type UnjudgedFinding, type Verdict } from './verdict.js';

export interface ValidateOptions {
  readonly context: Context;
  /** Defaults to the built-in policy. */
  readonly policy?: Policy;
  /** Defaults to the object's own `metadata.namespace`, without labels. */
  readonly namespace?: NamespaceInfo;
  /** Told of a rule that threw, so that an adapter can log and count it. */
  readonly onRuleError?: (rule: string, error: unknown) => void;
}

/** The rule ID of the finding that stands in for a rule that failed to run. */
export const INTERNAL_ERROR_RULE = 'internal-error';

const BUILT_IN_POLICY = Policy.builtIn();

/**
 * The most values (fields, list items, map entries) an object may hold to be checked. An
 * MCPServer holds a few hundred at most, metadata included; checking costs memory in proportion
 * to the findings, and a 7 MiB review of three million list items that each break the schema
 * would take gigabytes and crash the webhook. A larger object is denied unchecked.
 */
export const MAX_VALUES = 10_000;

/**
 * The one engine behind every face of the project: the admission server, the `validate` and
 * `audit` commands. Takes any value, never throws, and gives the same verdict for the same
 * input, byte for byte.
 */
export function validate(object: unknown, options: ValidateOptions): Verdict {
  const policy = options.policy ?? BUILT_IN_POLICY;
  if (holdsMoreValuesThan(object, MAX_VALUES)) {
    return buildVerdict([
      {
        rule: INTERNAL_ERROR_RULE,
        field: [],
        message: `the object holds more than ${MAX_VALUES} values (fields, list items and map entries), far more than an MCPServer needs, so it is denied without a check [${INTERNAL_ERROR_RULE}]`,
        action: 'deny',
      },
    ]);
  }
  const actions = policy.actions(options.context, options.namespace ?? namespaceOf(object));
  const findings: UnjudgedFinding[] = [];
  const failed = (rule: string, error: unknown): void => {
    options.onRuleError?.(rule, error);
    // Fail closed: an object that could not be checked is not let through.
    findings.push({
      rule: INTERNAL_ERROR_RULE,
      field: [],
      message: `the webhook could not finish checking this object (rule ${rule} failed), so it is denied to stay safe; operators find the error in the webhook's log [${INTERNAL_ERROR_RULE}]`,
      action: 'deny',
    });
  };
  let schemaIssues: SchemaIssue[] = [];
  try {
    schemaIssues = checkSchema(object);
  } catch (error) {
    // A schema pattern can overflow V8's backtracking stack on a string of megabytes (a 4 MiB
    // metadata.name of `a.a.a...`): the schema rule failed, not the whole verdict.
    failed('schema-violation', error);
  }
  const subject: Subject = { spec: specView(object) ?? {}, schemaIssues };

  for (const rule of RULES) {
    const action = actions.get(rule.id) ?? 'off';
    if (action === 'off') continue;
    try {
      for (const { field, message } of rule.check(subject)) {
        findings.push({ rule: rule.id, field, message, action, generic: rule.generic ?? false });
      }
    } catch (error) {
      failed(rule.id, error);
    }
  }
  return buildVerdict(findings);
}

function namespaceOf(object: unknown): NamespaceInfo | undefined {
  const metadata = isPlainObject(object) ? object.metadata : undefined;
  const name = isPlainObject(metadata) ? metadata.namespace : undefined;
  return typeof name === 'string' ? { name } : undefined;
}

/** Counts without recursion (a value may be nested thousands deep) and stops past the limit. */
function holdsMoreValuesThan(object: unknown, limit: number): boolean {
  const pending: unknown[] = [object];
  let count = 0;
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    // No array of values per object (Object.values): this runs on every object judged.
    if (Array.isArray(value)) {
      count += value.length;
      if (count > limit) return true;
      for (const item of value) pending.push(item);
    } else {
      for (const key in value) {
        if (++count > limit) return true;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}
