import type { FieldPath } from './field-path.js';
import { formatPath } from './field-path.js';
import type { RelatedField } from './fleet.js';
import type { Fix } from './fix.js';

/**
 * Where the engine runs. The same object means different things in Git and in the cluster:
 * a placeholder is right in Git and a failed injection in the cluster; a literal credential
 * is a leaked secret in Git and the expected result of a pipeline in the cluster.
 */
export const CONTEXTS = ['manifest', 'admission'] as const;
export type Context = (typeof CONTEXTS)[number];

/** What the policy makes of a rule's finding. */
export const ACTIONS = ['deny', 'warn', 'audit', 'off'] as const;
export type Action = (typeof ACTIONS)[number];
export type ActiveAction = Exclude<Action, 'off'>;

export interface Finding {
  readonly rule: string;
  /** Kubernetes field path, e.g. `spec.headers[Authorization]`; '' for the object as a whole. */
  readonly path: string;
  /** The same path as segments, for locating the field in a source document. */
  readonly field: FieldPath;
  /**
   * What is wrong and how to fix it, in words that follow the path (`path: message` is the
   * whole sentence; standaloneMessage() in src/report composes it). Never a secret value.
   */
  readonly message: string;
  /** The message in a few words, for a kubectl warning (see RuleFinding.summary). */
  readonly summary: string;
  readonly action: ActiveAction;
  /** On an UPDATE: the old object had the same finding (same rule, same field). */
  readonly preexisting?: true;
  /** A denial let through because it was already there (ratcheting): its action is what it became. */
  readonly ratcheted?: true;
  /** Fields of other MCPServers in the fleet that the finding is about too. */
  readonly related?: readonly RelatedField[];
  /** The change that removes the finding, where it is mechanical (see Fix). */
  readonly fix?: Fix;
}

export interface Verdict {
  readonly allowed: boolean;
  readonly denials: readonly Finding[];
  readonly warnings: readonly Finding[];
  readonly audits: readonly Finding[];
  /** Rules that would have run but did not, for want of the fleet (or the Secrets) they look at. */
  readonly unchecked: readonly string[];
}

export interface UnjudgedFinding {
  readonly rule: string;
  readonly field: FieldPath;
  readonly message: string;
  readonly summary: string;
  readonly action: ActiveAction;
  /** True for a generic finding that yields to a specific rule's finding on the same field. */
  readonly generic?: boolean;
  readonly preexisting?: true;
  readonly ratcheted?: true;
  readonly related?: readonly RelatedField[];
  readonly fix?: Fix;
}

/**
 * Orders findings and drops repeats so that the same input always gives the same text:
 * GitOps tools show it on every sync and must not see it flap. A generic schema finding is
 * dropped where a specific rule already explains the same field better.
 */
export function buildVerdict(findings: readonly UnjudgedFinding[], unchecked: readonly string[] = []): Verdict {
  const specificPaths = new Set<string>();
  const candidates = findings.map((finding) => {
    const path = formatPath(finding.field);
    if (!finding.generic) specificPaths.add(path);
    return { finding, path };
  });

  const seen = new Set<string>();
  const kept: Finding[] = [];
  for (const { finding, path } of candidates) {
    if (finding.generic && specificPaths.has(path)) continue;
    const identity = `${finding.rule}\u0000${path}\u0000${finding.message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const { rule, field, message, summary, action, preexisting, ratcheted, related, fix } = finding;
    kept.push({
      rule,
      path,
      field,
      message,
      summary,
      action,
      ...(preexisting ? { preexisting } : {}),
      ...(ratcheted ? { ratcheted } : {}),
      ...(related?.length ? { related } : {}),
      ...(fix ? { fix } : {}),
    });
  }
  kept.sort(compareFindings);

  const denials = kept.filter((f) => f.action === 'deny');
  return {
    allowed: denials.length === 0,
    denials,
    warnings: kept.filter((f) => f.action === 'warn'),
    audits: kept.filter((f) => f.action === 'audit'),
    unchecked: [...unchecked].sort(compareText),
  };
}

function compareFindings(a: Finding, b: Finding): number {
  return compareText(a.path, b.path) || compareText(a.rule, b.rule) || compareText(a.message, b.message);
}

/** Code-unit order: independent of locale and ICU version, so identical on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
