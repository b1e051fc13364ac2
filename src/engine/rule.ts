import type { FieldPath } from './field-path.js';
import type { SchemaIssue } from './schema.js';
import type { SpecView } from './spec-view.js';
import type { Action, Context } from './verdict.js';

/** What every rule is given: the typed view of the spec and the schema's own findings. */
export interface Subject {
  readonly spec: SpecView;
  readonly schemaIssues: readonly SchemaIssue[];
}

export interface RuleFinding {
  readonly field: FieldPath;
  readonly message: string;
}

export interface Rule {
  /** Stable kebab-case identifier: used in policies, messages, metrics and reports. Never renamed. */
  readonly id: string;
  /** One line: what the rule checks. */
  readonly description: string;
  /** How to fix what it finds, for the rule catalogue and SARIF help. */
  readonly fix: string;
  readonly defaults: Readonly<Record<Context, Action>>;
  /** True for the schema rule, whose finding yields to a specific rule on the same field. */
  readonly generic?: boolean;
  /** A pure function: no I/O, no clock, no randomness. */
  check(subject: Subject): readonly RuleFinding[];
}
