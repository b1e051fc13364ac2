import type { FieldPath } from './field-path.js';
import type { Fix } from './fix.js';
import type { FleetView, PeerGrouping, RelatedField } from './fleet.js';
import type { SchemaIssue } from './mcpserver-schema.js';
import type { SpecView } from './spec-view.js';
import type { Action, Context } from './verdict.js';

/** What every rule is given: the typed view of the spec (defaults left out) and the schema's own findings. */
export interface Subject {
  readonly spec: SpecView;
  readonly schemaIssues: readonly SchemaIssue[];
  /** The other MCPServers in view; given only to the rules that need it, and only when it is known. */
  readonly fleet?: FleetView;
}

export interface RuleFinding {
  readonly field: FieldPath;
  /**
   * What is wrong and how to fix it, in words that follow the field's path: kubectl prints each
   * cause as `field: message`, so the message never repeats the field. Never a secret value.
   */
  readonly message: string;
  /**
   * The same in a few words, for a kubectl warning: `field: summary (existing) [rule-id]` must fit
   * in 120 characters (a test holds every rule to it), so it is written short, never cut.
   */
  readonly summary: string;
  /** Fields of other MCPServers the finding is about too (a conflict names both sides). */
  readonly related?: readonly RelatedField[];
  /** Where the change that removes the finding is mechanical: that change. */
  readonly fix?: Fix;
  /** Overrides the rule's `generic` for this finding: a wrong type is reported in its own right. */
  readonly generic?: boolean;
}

/**
 * Where the API server itself refuses the mistake, before any webhook is called, when the cluster
 * runs the CRD in schemas/upstream/: its schema (types, enums, patterns, required fields, strict
 * field validation), or one of its CEL rules (`x-kubernetes-validations`). Undefined: only this
 * project catches it.
 */
export type CaughtByApiServer = 'crd-schema' | 'crd-cel';

export interface Rule {
  /** Stable kebab-case identifier: used in policies, messages, metrics and reports. */
  readonly id: string;
  /** One line: what the rule checks. */
  readonly description: string;
  /** How to fix what it finds, for the rule reference and SARIF help. */
  readonly fix: string;
  readonly defaults: Readonly<Record<Context, Action>>;
  readonly caughtByApiServer?: CaughtByApiServer;
  /**
   * For a rule that stands for one of the CRD's CEL rules and says more than its message (the
   * field to fix, and how): that rule's expression, exactly as the CRD writes it. While this rule
   * is on, the CRD rule's own finding (crd-cel-rule) yields to it; a CRD whose rule reads
   * otherwise (a newer one) is reported in its own words.
   */
  readonly mirrorsCrdRule?: string;
  /**
   * True for the schema's rules, which check manifests only: at admission the API server has
   * already applied its own CRD, so a schema finding there means the webhook's schema is behind
   * the cluster's (drift, for operators), never the user's mistake.
   */
  readonly manifestOnly?: boolean;
  /**
   * What a rule needs beyond the object: the other MCPServers in view (`fleet`), or those and the
   * Secrets that exist (`secrets`). Without it the rule does not run, and the verdict lists it
   * under `unchecked`: it says nothing rather than guess.
   */
  readonly needs?: 'fleet' | 'secrets';
  /**
   * For a rule that needs the fleet: how it groups servers (FleetView.peersWhere). A change to one
   * server can change the verdict of those that share a group with it, and of no other.
   */
  readonly groupings?: readonly PeerGrouping[];
  /**
   * Whether the object has anything for the rule to look at (a family, a Secret reference, headers,
   * an OAuth setting): the rule finds nothing in an object it does not concern. The audit's
   * PolicyReport lists a result for the rules that concern the object only, and a rule with
   * `needs` that could not run is reported as unchecked only where it concerns the object.
   * Absent: every object.
   */
  readonly concerns?: (spec: SpecView) => boolean;
  /** True for the schema rule, whose finding yields to a specific rule on the same field. */
  readonly generic?: boolean;
  /** A pure function: no I/O, no clock, no randomness. */
  check(subject: Subject): readonly RuleFinding[];
}
