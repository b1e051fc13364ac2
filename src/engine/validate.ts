import { isDeepStrictEqual } from 'node:util';
import { MCPServerSchema, type SchemaIssue } from './mcpserver-schema.js';
import { formatPath, type FieldPath } from './field-path.js';
import type { Fleet, FleetView, PeerGrouping } from './fleet.js';
import { Policy, type NamespaceInfo, type RuleTable } from './policy.js';
import type { Rule, Subject } from './rule.js';
import type { SpecView } from './spec-view.js';
import { applyJsonPatch } from './json-patch.js';
import { objectMetadata } from './resource.js';
import { RULES } from './rules/index.js';
import { schemaViolation } from './rules/schema-violation.js';
import { isPlainObject } from './schema.js';
import { buildVerdict, compareText, type Context, type UnjudgedFinding, type Verdict } from './verdict.js';

export interface ValidateOptions {
  readonly context: Context;
  /** Defaults to the built-in policy. */
  readonly policy?: Policy;
  /** Defaults to the object's own `metadata.namespace`, without labels. */
  readonly namespace?: NamespaceInfo;
  /** Defaults to the built-in schema (from the bundled upstream CRD). */
  readonly schema?: MCPServerSchema;
  /**
   * The object as it was before an UPDATE. A denial it already had (same rule, same field) is let
   * through as a warning (ratcheting, as the API server does for CRD validation since 1.30), where
   * the policy keeps ratcheting on; and when the spec is unchanged, a finding it already had is
   * not shown again (it becomes audit-only).
   */
  readonly oldObject?: unknown;
  /**
   * The other MCPServers in view (see Fleet). Undefined: the rules that need it do not run, and
   * the verdict lists them under `unchecked`.
   */
  readonly fleet?: Fleet;
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
  const table = policy.rules(options.context, options.namespace ?? namespaceOf(object));
  const schema = options.schema ?? MCPServerSchema.builtIn();
  const judging: Judging = { table, schema, fleet: options.fleet, onRuleError: options.onRuleError };
  const { findings, unchecked } = judge(object, judging);
  const proven = findings.some((finding) => finding.fix) ? proveFixes(object, findings, judging) : findings;
  // Ratcheting only ever changes a finding of the new object: without one, the old object need
  // not be judged (most UPDATEs, which change a valid object into another).
  if (options.oldObject === undefined || options.oldObject === null || proven.length === 0) return buildVerdict(proven, unchecked);
  const before = judge(options.oldObject, { ...judging, onRuleError: undefined }).findings;
  return buildVerdict(ratchet(proven, before, table, sameSpec(object, options.oldObject)), unchecked);
}

/**
 * A fix is offered only once it is proven on the object: applied, it removes its finding and
 * brings no new denial. Moving `forwardtoken: true` to spec.auth.forwardToken, say, is no fix where
 * spec.auth sets an authorizationServer, which forwardToken conflicts with. Runs only for objects
 * with a fix on offer: a few, and never at admission for most rules.
 */
function proveFixes(object: unknown, findings: readonly UnjudgedFinding[], judging: Judging): UnjudgedFinding[] {
  const key = (finding: UnjudgedFinding): string => `${finding.rule}\u0000${formatPath(finding.field)}`;
  const deniedBefore = new Set(findings.filter((finding) => finding.action === 'deny').map(key));
  return findings.map((finding) => {
    if (!finding.fix) return finding;
    let after: readonly UnjudgedFinding[];
    try {
      after = judge(applyJsonPatch(object, finding.fix.patch), { ...judging, onRuleError: undefined }).findings;
    } catch {
      after = [finding];
    }
    const holds = !after.some((other) => key(other) === key(finding)) && after.every((other) => other.action !== 'deny' || deniedBefore.has(key(other)));
    if (holds) return finding;
    const { fix: _unproven, ...withoutFix } = finding;
    return withoutFix;
  });
}

/**
 * At admission, a field the webhook's schema does not know, or a value it refuses, has passed the
 * API server's own checks against the cluster's CRD: the CRD is newer than the webhook. Not the
 * user's mistake, so not a finding; a signal for operators.
 */
export interface SchemaDrift {
  readonly path: string;
  readonly unknownField: boolean;
}

/**
 * What the schema refuses in an object the API server has accepted: at admission, where the
 * schema's rules do not run (the API server has checked the object against the cluster's own
 * CRD), each is drift between that CRD and ours (see Rule.manifestOnly). Kept apart from
 * `validate` so that the webhook works it out after it has answered: no admission decision
 * depends on it. An object too large to judge, or a check that cannot finish (a pattern
 * overflowing on a megabyte-long string), finds nothing.
 */
export function schemaDrift(object: unknown, schema: MCPServerSchema = MCPServerSchema.builtIn()): SchemaDrift[] {
  if (holdsMoreValuesThan(object, MAX_VALUES)) return [];
  try {
    return schema
      .check(object)
      // A CEL rule that could not be evaluated here says nothing about the cluster's CRD.
      .filter((issue) => issue.celRule?.evaluated !== false)
      .map((issue) => ({ path: formatPath(issue.field), unknownField: issue.unknownField }))
      .sort((a, b) => compareText(a.path, b.path));
  } catch {
    return [];
  }
}

/**
 * Whether a rule that needs the Secrets has anything to look at in the object (a Secret reference):
 * only then are the Secrets worth listing.
 */
export function needsSecrets(object: unknown, schema: MCPServerSchema = MCPServerSchema.builtIn()): boolean {
  const spec = schema.view(object) ?? {};
  return RULES.some((rule) => rule.needs === 'secrets' && concerns(rule, spec));
}

/**
 * The IDs of the rules that have something to look at in the object (Rule.concerns), in rule
 * order. The audit's PolicyReport lists a result for these only, as Kyverno lists a result for
 * the rules whose match selects a resource: a stdio server's report says nothing of header rules.
 */
export function rulesConcerning(object: unknown, schema: MCPServerSchema = MCPServerSchema.builtIn()): string[] {
  const spec = schema.view(object) ?? {};
  return RULES.filter((rule) => concerns(rule, spec)).map((rule) => rule.id);
}

/** Every way the rules group servers across the fleet. */
const GROUPINGS: readonly PeerGrouping[] = RULES.flatMap((rule) => rule.groupings ?? []);

/**
 * The members of `fleet` whose verdict can change when `object` enters it, leaves it or changes
 * in it: those that share a group with it (its family, its tool name space). Ask with the object
 * as it was and as it is, to cover a group it left and one it joined.
 */
export function affectedPeers(fleet: Fleet, object: unknown, schema: MCPServerSchema = MCPServerSchema.builtIn()): Set<string> {
  return fleet.sharingAGroupWith(object, GROUPINGS, schema);
}

function concerns(rule: Rule, spec: SpecView): boolean {
  return rule.concerns?.(spec) ?? true;
}

interface Judging {
  readonly table: RuleTable;
  readonly schema: MCPServerSchema;
  readonly fleet: Fleet | undefined;
  readonly onRuleError: ValidateOptions['onRuleError'];
}

interface Judged {
  readonly findings: UnjudgedFinding[];
  readonly unchecked: readonly string[];
}

function judge(object: unknown, { table, schema, fleet, onRuleError }: Judging): Judged {
  if (holdsMoreValuesThan(object, MAX_VALUES)) {
    const finding = internalError(`the object holds more than ${MAX_VALUES} values (fields, list items and map entries), far more than an MCPServer needs, so it is denied without a check`);
    return { findings: [finding], unchecked: [] };
  }
  const findings: UnjudgedFinding[] = [];
  const failed = (rule: string, error: unknown): void => {
    onRuleError?.(rule, error);
    // Fail closed: an object that could not be checked is not let through.
    findings.push(internalError(`the webhook could not finish checking this object (rule ${rule} failed), so it is denied to stay safe; operators find the error in the webhook's log`));
  };
  const spec = schema.view(object) ?? {};
  // Only the schema's rules read the schema's own findings, and they check manifests only: at
  // admission the costliest part of judging (about 40% of a review cold) is not done at all.
  let schemaIssues: SchemaIssue[] = [];
  if (table.checksSchema) {
    try {
      schemaIssues = withoutMirroredCelRules(schema.check(object), table, spec);
    } catch (error) {
      // A schema pattern can overflow V8's backtracking stack on a string of megabytes (a 4 MiB
      // metadata.name of `a.a.a...`): the schema rule failed, not the whole verdict.
      failed('schema-violation', error);
    }
  }
  // A field of the wrong type is reported as that, by the schema rule, and not again by a rule
  // that reads it: the typed view leaves it out, so to such a rule it looks missing
  // (`command: [npx, -y, x]` is not "required", it must be a string).
  const wrongTypes = schemaIssues.filter((issue) => issue.wrongType).map((issue) => formatPath(issue.field));
  const underWrongType = (field: FieldPath): boolean => {
    const path = formatPath(field);
    return wrongTypes.some((wrong) => path === wrong || path.startsWith(`${wrong}.`) || path.startsWith(`${wrong}[`));
  };
  // Built only when some rule needs it: most objects are judged without looking across the fleet.
  let view: FleetView | undefined;
  const unchecked: string[] = [];

  for (const rule of RULES) {
    const action = table.actions.get(rule.id) ?? 'off';
    if (action === 'off') continue;
    if (rule.needs && (!fleet || (rule.needs === 'secrets' && !fleet.secrets))) {
      if (concerns(rule, spec)) unchecked.push(rule.id);
      continue;
    }
    if (rule.needs && fleet) view ??= fleet.viewFrom(object, schema);
    const subject: Subject = { spec, schemaIssues, ...(rule.needs && view ? { fleet: view } : {}) };
    try {
      for (const { field, message, summary, related, fix, generic } of rule.check(subject)) {
        if (rule.id !== schemaViolation.id && underWrongType(field)) continue;
        findings.push({ rule: rule.id, field, message, summary, action, generic: generic ?? rule.generic ?? false, ...(related ? { related } : {}), ...(fix ? { fix } : {}) });
      }
    } catch (error) {
      failed(rule.id, error);
    }
  }
  return { findings, unchecked };
}

/**
 * The CRD's CEL failures less those that a rule of ours standing for the same CRD rule
 * (Rule.mirrorsCrdRule) reports too, on the field to fix and with the fix. Where ours is off, or
 * does not see what the CRD's rule sees, the CRD's rule speaks: a mistake is never passed in silence.
 */
function withoutMirroredCelRules(issues: SchemaIssue[], table: RuleTable, spec: SpecView): SchemaIssue[] {
  if (!issues.some((issue) => issue.celRule)) return issues;
  const speaking = new Set(
    RULES.flatMap((rule) => {
      if (!rule.mirrorsCrdRule || table.actions.get(rule.id) === 'off') return [];
      try {
        return rule.check({ spec, schemaIssues: [] }).length > 0 ? [rule.mirrorsCrdRule] : [];
      } catch {
        // The rule fails again when it runs in turn, and that failure denies the object.
        return [];
      }
    }),
  );
  return issues.filter((issue) => !issue.celRule || !speaking.has(issue.celRule.expression));
}

/** A denial of the object as a whole, for what kept it from being checked; short enough to be its own summary. */
function internalError(message: string): UnjudgedFinding {
  return { rule: INTERNAL_ERROR_RULE, field: [], message, summary: message, action: 'deny' };
}

/**
 * What an UPDATE's findings become when the old object had the same ones: a denial only warns
 * (where the policy ratchets the rule), and with the spec untouched nothing already shown is
 * shown again. A finding the change introduces is judged as usual; so is an object that could not
 * be checked (internal-error fails closed).
 */
function ratchet(findings: readonly UnjudgedFinding[], before: readonly UnjudgedFinding[], table: RuleTable, specUnchanged: boolean): UnjudgedFinding[] {
  const key = (finding: UnjudgedFinding): string => `${finding.rule}\u0000${formatPath(finding.field)}`;
  const existing = new Set(before.filter((finding) => finding.rule !== INTERNAL_ERROR_RULE).map(key));
  return findings.map((finding): UnjudgedFinding => {
    if (!existing.has(key(finding))) return finding;
    const denial = finding.action === 'deny';
    // A rule the policy does not ratchet denies what was already there too.
    if (denial && !table.ratcheting.has(finding.rule)) return { ...finding, preexisting: true };
    // Already shown when the spec was written: a change that leaves it alone is not told again.
    const action = specUnchanged ? 'audit' : denial ? 'warn' : finding.action;
    return { ...finding, action, preexisting: true, ...(denial ? { ratcheted: true } : {}) };
  });
}

/** Both come from the API server's own serialization: equal specs are deeply equal. */
function sameSpec(object: unknown, oldObject: unknown): boolean {
  const specOf = (value: unknown): unknown => (isPlainObject(value) ? value.spec : undefined);
  try {
    return isDeepStrictEqual(specOf(object), specOf(oldObject));
  } catch {
    // The comparison recurses, and throws RangeError on a spec nested thousands of levels deep:
    // such a spec counts as changed, so its findings are shown rather than hidden.
    return false;
  }
}

function namespaceOf(object: unknown): NamespaceInfo | undefined {
  const { namespace } = objectMetadata(object);
  return namespace === undefined ? undefined : { name: namespace };
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
