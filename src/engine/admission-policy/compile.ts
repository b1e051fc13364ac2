import { MCPServerSchema } from '../mcpserver-schema.js';
import type { LabelSelector, NamespaceOverride, Policy } from '../policy.js';
import { MCPSERVER_RESOURCE } from '../resource.js';
import { RULES } from '../rules/index.js';
import type { ActiveAction } from '../verdict.js';
import { notExpressible, onOldObject, ruleExpressions } from './rule-expressions.js';

/**
 * The policy in force, compiled into ValidatingAdmissionPolicies and their bindings, so that the
 * API server enforces in process every rule that CEL can say, with the webhook down or without
 * one (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30; v1beta1 from 1.28). One policy
 * per action (deny, warn, audit), bound with that validation action (Deny, Warn, Audit). A
 * namespace override becomes a condition on the namespace (`namespaceObject`) in the validation
 * of each rule it changes, so that, as in the policy file, the last matching entry wins: bindings'
 * label selectors can match a namespace but cannot leave out the ones a later entry takes.
 */
export interface AdmissionPolicyOptions {
  readonly policy: Policy;
  /** Default v1. */
  readonly apiVersion?: AdmissionPolicyApiVersion;
  /** The prefix of the objects' names; default mcpserver-webhook. */
  readonly name?: string;
  /** Where the bindings apply, as the webhook's namespaceSelector and objectSelector. */
  readonly matchResources?: { readonly namespaceSelector?: LabelSelector; readonly objectSelector?: LabelSelector };
}

export const ADMISSION_POLICY_API_VERSIONS = ['v1', 'v1beta1'] as const;
export type AdmissionPolicyApiVersion = (typeof ADMISSION_POLICY_API_VERSIONS)[number];

export interface AdmissionPolicyValidation {
  readonly rule: string;
  readonly action: ActiveAction;
  readonly expression: string;
  readonly messageExpression: string;
}

export interface CompiledAdmissionPolicy {
  /** The ValidatingAdmissionPolicies and their bindings, in the order to apply them. */
  readonly documents: readonly Record<string, unknown>[];
  readonly validations: readonly AdmissionPolicyValidation[];
  /** The rules the policies enforce somewhere (some perhaps only in some namespaces). */
  readonly enforced: readonly string[];
  /** The rules CEL cannot say, with the reason, left to the webhook. */
  readonly notExpressed: readonly { readonly rule: string; readonly reason: string }[];
}

const VALIDATION_ACTIONS: Readonly<Record<ActiveAction, string>> = { deny: 'Deny', warn: 'Warn', audit: 'Audit' };

export function compileAdmissionPolicy(options: AdmissionPolicyOptions): CompiledAdmissionPolicy {
  const { policy, apiVersion = 'v1', name = 'mcpserver-webhook' } = options;
  const expressions = ruleExpressions(MCPServerSchema.builtIn().root);
  const base = policy.rules('admission').actions;
  const validations: AdmissionPolicyValidation[] = [];
  const notExpressed: { rule: string; reason: string }[] = [];
  for (const rule of RULES) {
    const compiled = expressions[rule.id];
    if (!compiled) {
      notExpressed.push({ rule: rule.id, reason: notExpressible(rule) ?? 'has no CEL form yet' });
      continue;
    }
    const overrides = policy.namespaceOverrides(rule.id, 'admission');
    const baseAction = base.get(rule.id) ?? 'off';
    // Where nothing overrides the rule, its action is the same everywhere: no condition.
    const actionHere = overrides.reduce((otherwise, { entry, action }) => `(${namespaceMatches(entry)} ? '${action}' : ${otherwise})`, `'${baseAction}'`);
    const ratchets = policy.rules('admission').ratcheting.has(rule.id);
    for (const action of ['deny', 'warn', 'audit'] as const) {
      if (baseAction !== action && !overrides.some((override) => override.action === action)) continue;
      // Ratcheting, as the webhook does: an UPDATE that keeps a problem the old object had (same rule,
      // same field) is let through.
      const ratcheted = ratchets && action === 'deny';
      const passes = ratcheted && compiled.ratcheted ? compiled.ratcheted : compiled.expression;
      const conditions = [...(overrides.length > 0 ? [`${actionHere} != '${action}'`] : []), `(${passes})`];
      if (ratcheted && !compiled.ratcheted) conditions.push(`(oldObject != null && !(${onOldObject(compiled.expression)}))`);
      validations.push({ rule: rule.id, action, expression: conditions.join(' || '), messageExpression: compiled.message });
    }
  }

  const documents = (['deny', 'warn', 'audit'] as const).flatMap((action) => {
    const own = validations.filter((validation) => validation.action === action);
    if (own.length === 0) return [];
    const objectName = `${name}-${action}`;
    const group = `admissionregistration.k8s.io/${apiVersion}`;
    const { group: resourceGroup, version, plural } = MCPSERVER_RESOURCE;
    return [
      {
        apiVersion: group,
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: objectName },
        spec: {
          // Fail: a validation that errors denies, as the webhook fails closed.
          failurePolicy: 'Fail',
          matchConstraints: {
            matchPolicy: 'Equivalent',
            resourceRules: [{ apiGroups: [resourceGroup], apiVersions: [version], resources: [plural], operations: ['CREATE', 'UPDATE'] }],
          },
          validations: own.map(({ expression, messageExpression }) => ({ expression, messageExpression, reason: 'Invalid' })),
        },
      },
      {
        apiVersion: group,
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: objectName },
        spec: {
          policyName: objectName,
          validationActions: [VALIDATION_ACTIONS[action]],
          ...(options.matchResources ? { matchResources: options.matchResources } : {}),
        },
      },
    ];
  });
  return { documents, validations, enforced: [...new Set(validations.map((validation) => validation.rule))], notExpressed };
}

/** A CEL string literal. */
const literal = (text: string): string => JSON.stringify(text);
const list = (values: readonly string[]): string => `[${values.map(literal).join(', ')}]`;

/** Whether the namespace of the object matches an override entry, as Policy matches it. */
function namespaceMatches(entry: NamespaceOverride): string {
  const conditions = [
    ...(entry.names ? [`namespaceObject.metadata.name in ${list(entry.names)}`] : []),
    ...(entry.selector ? [selectorMatches(entry.selector)] : []),
  ];
  return conditions.length === 0 ? 'true' : `(${conditions.join(' && ')})`;
}

/** Kubernetes label selector semantics (matchesSelector in policy.ts), over the namespace's labels. */
function selectorMatches(selector: LabelSelector): string {
  const labels = 'namespaceObject.metadata.labels';
  const has = (key: string): string => `(has(${labels}) && ${literal(key)} in ${labels})`;
  const value = (key: string): string => `${labels}[${literal(key)}]`;
  const conditions = [
    ...Object.entries(selector.matchLabels ?? {}).map(([key, wanted]) => `${has(key)} && ${value(key)} == ${literal(wanted)}`),
    ...(selector.matchExpressions ?? []).map(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return `${has(key)} && ${value(key)} in ${list(values)}`;
        case 'NotIn':
          return `(!${has(key)} || !(${value(key)} in ${list(values)}))`;
        case 'Exists':
          return has(key);
        case 'DoesNotExist':
          return `!${has(key)}`;
      }
    }),
  ];
  return conditions.length === 0 ? 'true' : `(${conditions.join(' && ')})`;
}
