import { LineCounter, parseAllDocuments } from 'yaml';
import { isPlainObject } from '../engine/schema.js';
import { lineOf } from '../engine/source-lines.js';
import type { FieldPath } from '../engine/field-path.js';
import { pathKeys } from '../engine/field-path.js';

/** One MCPServer found in a manifest file, with a way back to the lines it came from. */
export interface ManifestObject {
  readonly file: string;
  /** The document's number in the file, from 0. */
  readonly index: number;
  /** For members of a `kind: List`, the item's number in it. */
  readonly item?: number;
  readonly object: Record<string, unknown>;
  /** The line of a field of this object (or of its nearest ancestor that exists). */
  lineOf(field: FieldPath): number;
}

export interface InputError {
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

export interface ParsedManifests {
  readonly objects: ManifestObject[];
  /** Labels of the `kind: Namespace` documents seen, for policy overrides by label selector. */
  readonly namespaceLabels: Map<string, Record<string, string>>;
  /** Documents that are neither MCPServers nor empty. */
  skipped: number;
  readonly errors: InputError[];
}

export function emptyManifests(): ParsedManifests {
  return { objects: [], namespaceLabels: new Map(), skipped: 0, errors: [] };
}

const MUSTER_GROUP = 'muster.giantswarm.io';

/** Other projects have an `MCPServer` kind too (ToolHive, for one): only Muster's is ours. */
function isMusterServer(value: Record<string, unknown>): boolean {
  const { apiVersion } = value;
  return value.kind === 'MCPServer' && (apiVersion === undefined || String(apiVersion).split('/')[0] === MUSTER_GROUP);
}

/**
 * Reads every document of a YAML (or JSON) text into `into`. A syntax error is reported with
 * its line, and only the broken document is lost: the other documents are still checked.
 */
export function collectManifests(file: string, text: string, into: ParsedManifests): void {
  const counter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(documents)) return; // an empty stream
  for (const [index, document] of documents.entries()) {
    const syntaxError = document.errors[0];
    if (syntaxError) {
      into.errors.push({ file, line: syntaxError.linePos?.[0].line, message: firstLine(syntaxError.message) });
      continue;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      into.errors.push({ file, line: lineOf(document, counter, []), message: firstLine(String((error as Error).message)) });
      continue;
    }
    if (value == null) continue;
    const at = (prefix: (string | number)[]) => (field: FieldPath) => lineOf(document, counter, [...prefix, ...pathKeys(field)]);
    const consider = (candidate: unknown, prefix: (string | number)[], item?: number): void => {
      if (!isPlainObject(candidate)) {
        into.skipped++;
      } else if (isMusterServer(candidate)) {
        into.objects.push({ file, index, ...(item === undefined ? {} : { item }), object: candidate, lineOf: at(prefix) });
      } else {
        if (candidate.kind === 'Namespace') rememberNamespace(candidate, into.namespaceLabels);
        into.skipped++;
      }
    };
    if (isPlainObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((member, item) => consider(member, ['items', item], item));
    } else {
      consider(value, [], undefined);
    }
  }
}

function rememberNamespace(namespace: Record<string, unknown>, labelsByName: Map<string, Record<string, string>>): void {
  const metadata = isPlainObject(namespace.metadata) ? namespace.metadata : {};
  const labels = isPlainObject(metadata.labels) ? metadata.labels : {};
  if (typeof metadata.name !== 'string') return;
  const stringLabels = Object.fromEntries(Object.entries(labels).filter(([, value]) => typeof value === 'string'));
  labelsByName.set(metadata.name, stringLabels as Record<string, string>);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
