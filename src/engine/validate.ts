import { Policy, type NamespaceInfo } from './policy.js';
import type { Subject } from './rule.js';
import { RULES } from './rules/index.js';
import { checkSchema, isPlainObject, specView } from './schema.js';
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
 * The one engine behind every face of the project: the admission server, the `validate` and
 * `audit` commands. Takes any value, never throws, and gives the same verdict for the same
 * input, byte for byte.
 */
export function validate(object: unknown, options: ValidateOptions): Verdict {
  const policy = options.policy ?? BUILT_IN_POLICY;
  const actions = policy.actions(options.context, options.namespace ?? namespaceOf(object));
  const subject: Subject = { spec: specView(object) ?? {}, schemaIssues: checkSchema(object) };

  const findings: UnjudgedFinding[] = [];
  for (const rule of RULES) {
    const action = actions.get(rule.id) ?? 'off';
    if (action === 'off') continue;
    try {
      for (const { field, message } of rule.check(subject)) {
        findings.push({ rule: rule.id, field, message, action, generic: rule.generic ?? false });
      }
    } catch (error) {
      options.onRuleError?.(rule.id, error);
      // Fail closed: an object that could not be checked is not let through.
      findings.push({
        rule: INTERNAL_ERROR_RULE,
        field: [],
        message: `the webhook could not finish checking this object (rule ${rule.id} failed), so it is denied to stay safe; operators find the error in the webhook's log [${INTERNAL_ERROR_RULE}]`,
        action: 'deny',
      });
    }
  }
  return buildVerdict(findings);
}

function namespaceOf(object: unknown): NamespaceInfo | undefined {
  const metadata = isPlainObject(object) ? object.metadata : undefined;
  const name = isPlainObject(metadata) ? metadata.namespace : undefined;
  return typeof name === 'string' ? { name } : undefined;
}
