import { formatPath, objectMetadata, type Finding, type Fix, type RelatedField, type Verdict } from '../engine/index.js';
import { standaloneMessage } from './finding-text.js';

/**
 * The result contract shared by `validate --output json` and, later, `audit --output json`.
 * The paired reconciler and CI scripts read it: fields may be added, never renamed.
 */
export interface ReportedFinding {
  readonly rule: string;
  readonly path: string;
  readonly message: string;
  /** The line of the field in `file`, when the object came from a file. */
  readonly line?: number;
  /** The same conflict seen from the other side: fields of other MCPServers it is about too. */
  readonly related?: readonly RelatedPlace[];
  /** The change that removes the finding, where it is mechanical: an RFC 6902 JSON Patch. */
  readonly fix?: Fix;
}

/** A field of another MCPServer, by its file and line where it came from a file. */
export interface RelatedPlace {
  readonly file?: string;
  readonly line?: number;
  readonly name: string | null;
  readonly namespace: string | null;
  readonly path: string;
}

/** A verdict in the contract's words; also the answer of the server's `POST /v1/verdict`. */
export interface VerdictResult {
  readonly allowed: boolean;
  readonly denials: readonly ReportedFinding[];
  readonly warnings: readonly ReportedFinding[];
  readonly audits: readonly ReportedFinding[];
  /** Rules that did not run for want of the other MCPServers (or Secrets) they look at; absent when none. */
  readonly unchecked?: readonly string[];
}

/** How an adapter points into its sources: the line of a field, and where a member of the fleet is. */
export interface Places {
  lineOf?(finding: Finding): number;
  /** The member of the fleet a related field belongs to, as an identity and a way to its lines. */
  memberOf?(id: string): { readonly identity: Pick<ObjectResult, 'file' | 'name' | 'namespace'>; lineOf?(field: RelatedField['field']): number } | undefined;
}

export interface ObjectResult extends VerdictResult {
  readonly file?: string;
  readonly index?: number;
  readonly item?: number;
  readonly name: string | null;
  readonly namespace: string | null;
}

export interface ReportError {
  readonly file?: string;
  /** For a document that could not be read: its number in the file, from 0. */
  readonly index?: number;
  readonly line?: number;
  readonly message: string;
}

export interface Summary {
  readonly files?: number;
  readonly checked: number;
  readonly allowed: number;
  readonly denied: number;
  readonly withWarnings: number;
  readonly skipped?: number;
  readonly errors: number;
  /** What the objects were checked against: `built-in` (the bundled upstream CRD), or a CRD's file. */
  readonly schema?: string;
  /** Rules that did not run for some objects, for want of what they look at; absent when every rule ran. */
  readonly unchecked?: readonly string[];
}

export interface Report {
  readonly results: readonly ObjectResult[];
  readonly errors: readonly ReportError[];
  readonly summary: Summary;
}

/** One object's result; which rules did not run is said once for the report, in its summary. */
export function objectResult(identity: Pick<ObjectResult, 'file' | 'index' | 'item' | 'name' | 'namespace'>, verdict: Verdict, places: Places = {}): ObjectResult {
  const { unchecked: _saidInTheSummary, ...result } = verdictResult(verdict, places);
  return { ...identity, ...result };
}

export function verdictResult(verdict: Verdict, places: Places = {}): VerdictResult {
  const relatedPlace = (related: RelatedField): RelatedPlace[] => {
    const member = places.memberOf?.(related.member);
    if (!member) return [];
    const line = member.lineOf?.(related.field);
    return [{ ...member.identity, ...(line === undefined ? {} : { line }), path: formatPath(related.field) }];
  };
  const report = (finding: Finding): ReportedFinding => {
    const related = (finding.related ?? []).flatMap(relatedPlace);
    return {
      rule: finding.rule,
      path: finding.path,
      message: standaloneMessage(finding),
      ...(places.lineOf ? { line: places.lineOf(finding) } : {}),
      ...(related.length > 0 ? { related } : {}),
      ...(finding.fix ? { fix: finding.fix } : {}),
    };
  };
  return {
    allowed: verdict.allowed,
    denials: verdict.denials.map(report),
    warnings: verdict.warnings.map(report),
    audits: verdict.audits.map(report),
    ...(verdict.unchecked.length > 0 ? { unchecked: verdict.unchecked } : {}),
  };
}

export function summarize(results: readonly ObjectResult[], extra: Partial<Summary> & { errors: number }): Summary {
  return {
    ...(extra.files === undefined ? {} : { files: extra.files }),
    checked: results.length,
    allowed: results.filter((result) => result.allowed).length,
    denied: results.filter((result) => !result.allowed).length,
    withWarnings: results.filter((result) => result.warnings.length > 0).length,
    ...(extra.skipped === undefined ? {} : { skipped: extra.skipped }),
    errors: extra.errors,
    ...(extra.schema === undefined ? {} : { schema: extra.schema }),
    ...(extra.unchecked?.length ? { unchecked: [...new Set(extra.unchecked)].sort() } : {}),
  };
}

/** `metadata.name` and `metadata.namespace`, or null where an object lacks them. */
export function objectIdentity(object: unknown): Pick<ObjectResult, 'name' | 'namespace'> {
  const { name, namespace } = objectMetadata(object);
  return { name: name ?? null, namespace: namespace ?? null };
}

/** `namespace/name`, or just the name, as kubectl users write it. */
export function displayName(result: Pick<ObjectResult, 'name' | 'namespace'>): string {
  const name = result.name ?? '(unnamed)';
  return result.namespace ? `${result.namespace}/${name}` : name;
}
