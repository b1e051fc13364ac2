import type { Finding, Verdict } from '../engine/index.js';
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
}

/** A verdict in the contract's words; also the answer of the server's `POST /v1/verdict`. */
export interface VerdictResult {
  readonly allowed: boolean;
  readonly denials: readonly ReportedFinding[];
  readonly warnings: readonly ReportedFinding[];
  readonly audits: readonly ReportedFinding[];
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
}

export interface Report {
  readonly results: readonly ObjectResult[];
  readonly errors: readonly ReportError[];
  readonly summary: Summary;
}

export function objectResult(
  identity: Pick<ObjectResult, 'file' | 'index' | 'item' | 'name' | 'namespace'>,
  verdict: Verdict,
  lineOf?: (finding: Finding) => number,
): ObjectResult {
  return { ...identity, ...verdictResult(verdict, lineOf) };
}

export function verdictResult(verdict: Verdict, lineOf?: (finding: Finding) => number): VerdictResult {
  const report = (finding: Finding): ReportedFinding => ({
    rule: finding.rule,
    path: finding.path,
    message: standaloneMessage(finding),
    ...(lineOf ? { line: lineOf(finding) } : {}),
  });
  return {
    allowed: verdict.allowed,
    denials: verdict.denials.map(report),
    warnings: verdict.warnings.map(report),
    audits: verdict.audits.map(report),
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
  };
}

/** `metadata.name` and `metadata.namespace`, or null where an object lacks them. */
export function objectIdentity(object: unknown): Pick<ObjectResult, 'name' | 'namespace'> {
  const metadata = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null | undefined)?.metadata;
  return {
    name: typeof metadata?.name === 'string' ? metadata.name : null,
    namespace: typeof metadata?.namespace === 'string' ? metadata.namespace : null,
  };
}

/** `namespace/name`, or just the name, as kubectl users write it. */
export function displayName(result: Pick<ObjectResult, 'name' | 'namespace'>): string {
  const name = result.name ?? '(unnamed)';
  return result.namespace ? `${result.namespace}/${name}` : name;
}
