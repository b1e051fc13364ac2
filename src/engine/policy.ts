import type { ErrorObject } from 'ajv';
import { formatPath } from './field-path.js';
import { RULE_ALIASES, RULES } from './rules/index.js';
import { createAjv, loadSchemaFile, resolvePointer, type SchemaNode } from './schema.js';
import { isYamlError, parseYamlDocuments } from './yaml-source.js';
import type { Rule } from './rule.js';
import type { Action, Context } from './verdict.js';

/** The namespace an object lives in; labels are known where an adapter could look them up. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
}

/** An action for both contexts, or per context, with ratcheting for this rule on or off. */
type RuleSetting = Action | (Partial<Record<Context, Action>> & { readonly ratcheting?: boolean });
type RuleSettings = Readonly<Record<string, RuleSetting>>;

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly {
    readonly key: string;
    readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    readonly values?: readonly string[];
  }[];
}

export interface NamespaceOverride {
  readonly names?: readonly string[];
  readonly selector?: LabelSelector;
  readonly ratcheting?: boolean;
  readonly rules?: RuleSettings;
}

/** The policy file's shape, as `schemas/policy.json` describes it. */
export interface PolicyDocument {
  readonly version?: 1;
  /** Ratcheting for every rule (default true): on UPDATE, a denial the old object already had only warns. */
  readonly ratcheting?: boolean;
  readonly rules?: RuleSettings;
  readonly namespaces?: readonly NamespaceOverride[];
}

/** Every rule's action for one context and namespace. */
export type ActionTable = ReadonlyMap<string, Action>;

/** What the policy says for one context and namespace. */
export interface RuleTable {
  readonly actions: ActionTable;
  /** Rules whose denials ratchet on UPDATE: let through, as a warning, when the old object had them too. */
  readonly ratcheting: ReadonlySet<string>;
  /** Whether a rule that reads the schema's findings (a manifest-only rule) is on: else the schema need not be checked. */
  readonly checksSchema: boolean;
}

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
}

const POLICY_SCHEMA = loadSchemaFile('policy.json');
const validatePolicyDocument = createAjv().compile<PolicyDocument>(POLICY_SCHEMA);
const MAX_CACHED_TABLES = 1024;

/**
 * A policy decides, per rule, context and namespace, what a finding does: deny, warn, audit or
 * nothing. Built-in defaults come from the rules; the file's top-level `rules` override them;
 * then each namespace entry that matches, in file order, so a later entry wins.
 */
export class Policy {
  private readonly tables = new Map<string, RuleTable>();
  private readonly usesSelectors: boolean;

  constructor(
    readonly document: PolicyDocument,
    /** Where the policy came from, for logs: a file name, or `built-in`. */
    readonly source: string,
  ) {
    this.usesSelectors = (document.namespaces ?? []).some((entry) => entry.selector !== undefined);
  }

  static builtIn(): Policy {
    return new Policy({}, 'built-in');
  }

  actions(context: Context, namespace?: NamespaceInfo): ActionTable {
    return this.rules(context, namespace).actions;
  }

  rules(context: Context, namespace?: NamespaceInfo): RuleTable {
    const labels = this.usesSelectors && namespace?.labels ? JSON.stringify(namespace.labels) : '';
    const cacheKey = `${context}\u0000${namespace?.name ?? ''}\u0000${labels}`;
    let table = this.tables.get(cacheKey);
    if (!table) {
      table = this.resolve(context, namespace);
      // Namespaces are few; the bound only guards against a stream of made-up names.
      if (this.tables.size >= MAX_CACHED_TABLES) this.tables.clear();
      this.tables.set(cacheKey, table);
    }
    return table;
  }

  private resolve(context: Context, namespace: NamespaceInfo | undefined): RuleTable {
    const actions = new Map<string, Action>(RULES.map((rule) => [rule.id, rule.defaults[context]]));
    const ratcheting = new Set(RULES.map((rule) => rule.id));
    const setRatcheting = (rule: string, on: boolean | undefined): void => {
      if (on === true) ratcheting.add(rule);
      else if (on === false) ratcheting.delete(rule);
    };
    const apply = (entry: Pick<PolicyDocument, 'ratcheting' | 'rules'>): void => {
      for (const rule of RULES) setRatcheting(rule.id, entry.ratcheting);
      for (const [name, setting] of Object.entries(entry.rules ?? {})) {
        const rule = ruleOf(name);
        const action = settingAction(rule, setting, context);
        if (action) actions.set(rule.id, action);
        if (typeof setting === 'object') setRatcheting(rule.id, setting.ratcheting);
      }
    };
    apply(this.document);
    for (const entry of this.document.namespaces ?? []) {
      if (namespace && matchesNamespace(entry, namespace)) apply(entry);
    }
    const checksSchema = RULES.some((rule) => rule.manifestOnly && actions.get(rule.id) !== 'off');
    return { actions, ratcheting, checksSchema };
  }

  /**
   * The namespace entries that set a rule's action in a context, in file order: where several
   * match a namespace, the last one wins (see `rules`). For those who compile the policy into
   * another form, such as a ValidatingAdmissionPolicy.
   */
  namespaceOverrides(ruleId: string, context: Context): { readonly entry: NamespaceOverride; readonly action: Action }[] {
    return (this.document.namespaces ?? []).flatMap((entry) => {
      let action: Action | undefined;
      for (const [name, setting] of Object.entries(entry.rules ?? {})) {
        const rule = ruleOf(name);
        if (rule.id === ruleId) action = settingAction(rule, setting, context) ?? action;
      }
      return action ? [{ entry, action }] : [];
    });
  }
}

/** The action a setting gives a rule in a context, if it gives one. */
function settingAction(rule: Rule, setting: RuleSetting, context: Context): Action | undefined {
  const action = typeof setting === 'string' ? setting : setting[context];
  // A manifest-only rule never runs at admission, whatever a string setting says (see Rule).
  return action && !(rule.manifestOnly && context === 'admission') ? action : undefined;
}

/** The rule a policy names, by its ID or an older ID kept as an alias (the schema allows only these). */
function ruleOf(name: string): Rule {
  const id = Object.hasOwn(RULE_ALIASES, name) ? (RULE_ALIASES[name] ?? name) : name;
  const rule = RULES.find((candidate) => candidate.id === id);
  if (!rule) throw new PolicyError(`${name} is not a rule ID`);
  return rule;
}

function matchesNamespace(entry: NamespaceOverride, namespace: NamespaceInfo): boolean {
  if (entry.names && !entry.names.includes(namespace.name)) return false;
  if (entry.selector && !(namespace.labels && matchesSelector(entry.selector, namespace.labels))) return false;
  return true;
}

/** Kubernetes label selector semantics: every matchLabels pair and every expression must hold. */
export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (key: string): boolean => Object.hasOwn(labels, key);
  const labelsMatch = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => has(key) && labels[key] === value);
  return (
    labelsMatch &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return has(key) && values.includes(labels[key] ?? '');
        case 'NotIn':
          return !has(key) || !values.includes(labels[key] ?? '');
        case 'Exists':
          return has(key);
        case 'DoesNotExist':
          return !has(key);
      }
    })
  );
}

/**
 * Parses a policy from YAML or JSON text. A bad file throws a PolicyError whose message names
 * the file, the line and the key, one line per problem.
 */
export function parsePolicy(text: string, source: string): Policy {
  const [document, extra] = parseYamlDocuments(text);
  if (document && isYamlError(document)) throw new PolicyError(`${source}:${document.line}: ${document.message}`);
  if (extra) throw new PolicyError(`${source}:${isYamlError(extra) ? extra.line : extra.lineOf([])}: a policy file holds one document`);
  const content: unknown = document?.value ?? {};
  if (validatePolicyDocument(content)) {
    const misplaced = manifestOnlyAtAdmission(content);
    if (misplaced.length === 0) return new Policy(content, source);
    throw new PolicyError(misplaced.map(({ keys, message }) => `${source}:${document?.lineOf(keys) ?? 1}: ${message}`).join('\n'));
  }

  const problems = describePolicyErrors(validatePolicyDocument.errors ?? []).map(({ keys, message }) => {
    const line = document?.lineOf(keys) ?? 1;
    return { line, text: `${source}:${line}: ${message}` };
  });
  problems.sort((a, b) => a.line - b.line || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  throw new PolicyError([...new Set(problems.map((problem) => problem.text))].join('\n'));
}

/**
 * A manifest-only rule set for admission by name: refused, because it would do nothing. At
 * admission the API server has already checked the object against the cluster's own CRD.
 */
function manifestOnlyAtAdmission(document: PolicyDocument): PolicyProblem[] {
  const entries: [(string | number)[], RuleSettings | undefined][] = [
    [['rules'], document.rules],
    ...(document.namespaces ?? []).map((entry, index): [(string | number)[], RuleSettings | undefined] => [['namespaces', index, 'rules'], entry.rules]),
  ];
  return entries.flatMap(([keys, rules]) =>
    Object.entries(rules ?? {}).flatMap(([name, setting]): PolicyProblem[] => {
      const rule = ruleOf(name);
      if (!rule.manifestOnly || typeof setting !== 'object' || setting.admission === undefined || setting.admission === 'off') return [];
      return [
        {
          keys: [...keys, name, 'admission'],
          message: `${formatPath([...keys, name, 'admission'])}: ${name} checks manifests only: at admission the API server has already checked the object against the cluster's CRD, and the webhook reports a disagreement to operators as schema drift; remove the admission setting`,
        },
      ];
    }),
  );
}

interface PolicyProblem {
  readonly keys: (string | number)[];
  readonly message: string;
}

function describePolicyErrors(errors: readonly ErrorObject[]): PolicyProblem[] {
  // An anyOf speaks for its branches ("must be X or Y"); of the branches' own complaints only
  // an unknown key is kept, because it names what to fix.
  const anyOfPaths = new Set(errors.filter((error) => error.keyword === 'anyOf').map((error) => error.instancePath));
  const speaksForBranch = (error: ErrorObject): boolean =>
    error.keyword !== 'anyOf' &&
    error.keyword !== 'additionalProperties' &&
    error.schemaPath.includes('/anyOf/') &&
    anyOfPaths.has(error.instancePath);
  return errors.flatMap((error): PolicyProblem[] => {
    if (speaksForBranch(error)) return [];
    const { field } = resolvePointer(POLICY_SCHEMA, error.instancePath);
    const keys = field.map((segment) => (typeof segment === 'object' ? segment.key : segment));
    const name = formatPath(field) || 'the policy';
    const parent = error.parentSchema as (SchemaNode & { description?: string }) | undefined;
    switch (error.keyword) {
      case 'propertyNames':
        return [];
      case 'enum':
        if (error.propertyName !== undefined) {
          return [
            {
              keys: [...keys, error.propertyName],
                            message: `${name}: ${error.propertyName} is not a rule ID; the rules are: ${RULES.map((rule) => rule.id).join(', ')}`,
            },
          ];
        }
        return [{ keys, message: `${name}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}` }];
      case 'additionalProperties': {
        const key = String(error.params.additionalProperty);
        const known = Object.keys(parent?.properties ?? {}).join(', ');
        return [{ keys: [...keys, key], message: `${name}: unknown key ${key}; the keys allowed here are: ${known}` }];
      }
      case 'required':
        return [{ keys, message: `${name}: ${String(error.params.missingProperty)} is required` }];
      case 'anyOf':
        return [{ keys, message: `${name}: must be ${parent?.description ?? 'one of the allowed forms'}` }];
      case 'type':
        return [{ keys, message: `${name}: must be ${String(error.params.type) === 'array' ? 'a list' : `of type ${String(error.params.type)}`}` }];
      default:
        return [{ keys, message: `${name}: ${error.message ?? error.keyword}` }];
    }
  });
}
