import { pathKeys, type FieldPath } from '../engine/field-path.js';
import { isMCPServerCrd } from '../engine/crd.js';
import { MCPSERVER_RESOURCE } from '../engine/resource.js';
import { isPlainObject } from '../engine/schema.js';
import { isYamlError, parseYamlDocuments } from '../engine/yaml-source.js';
import { displayName, objectIdentity } from '../report/results.js';

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
  /** For a document that could not be read: its number in the file, from 0. */
  readonly index?: number;
  readonly line?: number;
  readonly message: string;
}

/** A CustomResourceDefinition of MCPServers among the inputs. */
export interface FoundCrd {
  readonly file: string;
  readonly line: number;
  readonly value: unknown;
}

export interface ParsedManifests {
  readonly objects: ManifestObject[];
  /** MCPServer CRDs among the inputs: `validate` checks against the one the repository vendors. */
  readonly crds: FoundCrd[];
  /** Labels of the `kind: Namespace` documents seen, for policy overrides by label selector. */
  readonly namespaceLabels: Map<string, Record<string, string>>;
  /** Documents that are neither MCPServers nor empty. */
  skipped: number;
  readonly errors: InputError[];
}

export function emptyManifests(): ParsedManifests {
  return { objects: [], crds: [], namespaceLabels: new Map(), skipped: 0, errors: [] };
}

/** Other projects have an `MCPServer` kind too (ToolHive, for one): only Muster's is ours. */
function isMusterServer(value: Record<string, unknown>): boolean {
  const { apiVersion } = value;
  return value.kind === 'MCPServer' && (apiVersion === undefined || String(apiVersion).split('/')[0] === MCPSERVER_RESOURCE.group);
}

/**
 * Reads every document of a YAML (or JSON) text into `into`. A syntax error is reported with
 * its line, and only the broken document is lost: the other documents are still checked.
 */
export function collectManifests(file: string, text: string, into: ParsedManifests): void {
  for (const document of parseYamlDocuments(text)) {
    if (isYamlError(document)) {
      into.errors.push({ file, index: document.index, line: document.line, message: `${documentName(document)}: ${document.message}` });
      continue;
    }
    const { index, value } = document;
    if (value == null) continue;
    const consider = (candidate: unknown, prefix: (string | number)[], item?: number): void => {
      if (!isPlainObject(candidate)) {
        into.skipped++;
      } else if (isMusterServer(candidate)) {
        const lineOf = (field: FieldPath): number => document.lineOf([...prefix, ...pathKeys(field)]);
        into.objects.push({ file, index, ...(item === undefined ? {} : { item }), object: candidate, lineOf });
      } else {
        if (candidate.kind === 'Namespace') rememberNamespace(candidate, into.namespaceLabels);
        if (isMCPServerCrd(candidate)) into.crds.push({ file, line: document.lineOf(prefix), value: candidate });
        into.skipped++;
      }
    };
    if (isPlainObject(value) && value.kind === 'List' && Array.isArray(value.items)) {
      value.items.forEach((member, item) => consider(member, ['items', item], item));
    } else {
      consider(value, []);
    }
  }
}

/** `2nd document (muster/vendor-tools)`: its place in the file, and its name when the part before the problem has one. */
function documentName({ index, readable }: { index: number; readable?: unknown }): string {
  const identity = objectIdentity(readable);
  return `${ordinal(index + 1)} document${identity.name === null ? '' : ` (${displayName(identity)})`}`;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
  return `${n}${suffix}`;
}

function rememberNamespace(namespace: Record<string, unknown>, labelsByName: Map<string, Record<string, string>>): void {
  const metadata = isPlainObject(namespace.metadata) ? namespace.metadata : {};
  const labels = isPlainObject(metadata.labels) ? metadata.labels : {};
  if (typeof metadata.name !== 'string') return;
  const stringLabels = Object.fromEntries(Object.entries(labels).filter(([, value]) => typeof value === 'string'));
  labelsByName.set(metadata.name, stringLabels as Record<string, string>);
}
