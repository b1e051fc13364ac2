import { isMap, isScalar, parseAllDocuments, Scalar, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { JsonPatchOperation } from '../engine/index.js';

/**
 * Fixes applied to manifest files as the smallest edits of their text: a removed field loses its
 * lines, a corrected name or value is rewritten where it stands, in its own quoting. Everything
 * else (comments, key order, indentation, the other documents) is kept byte for byte. The
 * document is read with the `yaml` package, which knows where each node stands in the text.
 */

/** Replace `length` characters at `offset` with `text`. */
export interface TextEdit {
  readonly offset: number;
  readonly length: number;
  readonly text: string;
}

/** Where a fix applies: the document's number among those with content, and the path to the object in it. */
export interface FixTarget {
  readonly index: number;
  /** For a member of a `kind: List`: its number in `items`. */
  readonly item?: number;
  readonly patch: readonly JsonPatchOperation[];
}

type Key = string | number;

/** The keys of an RFC 6901 pointer: `/spec/headers/X-Api~1Key` is spec, headers, X-Api/Key. */
function pointerKeys(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The documents of a text that hold content, numbered as the manifest reader numbers them. */
export function contentDocuments(text: string): Document.Parsed[] | undefined {
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents) || documents.some((document) => document.errors.length > 0)) return undefined;
  return documents.filter((document) => document.contents !== null);
}

/**
 * The edits of the text that apply one fix, or undefined when the fix cannot be written as such
 * an edit (a flow-style map, a field that is not where the patch says): then it is not applied.
 */
export function fixEdits(text: string, documents: readonly Document.Parsed[], target: FixTarget): TextEdit[] | undefined {
  const document = documents[target.index];
  if (!document) return undefined;
  const prefix: Key[] = target.item === undefined ? [] : ['items', target.item];
  const edits: TextEdit[] = [];
  for (const operation of target.patch) {
    const path = [...prefix, ...pointerKeys(operation.path)];
    const edit =
      operation.op === 'remove'
        ? removal(text, document, path)
        : operation.op === 'move'
          ? move(text, document, [...prefix, ...pointerKeys(operation.from)], path)
          : setting(text, document, path, operation.value, undefined);
    if (!edit) return undefined;
    edits.push(...edit);
  }
  return edits;
}

/**
 * Applies groups of edits made against the same text, each group whole or not at all: a group
 * that overlaps one already applied is left out (two fixes of the same lines). Says which were.
 */
export function applyEditGroups(text: string, groups: readonly (readonly TextEdit[])[]): { text: string; applied: boolean[] } {
  const applied = groups.map(() => false);
  const taken: TextEdit[] = [];
  const overlaps = (a: TextEdit, b: TextEdit): boolean => (a.offset < b.offset + b.length && b.offset < a.offset + a.length) || a.offset === b.offset;
  groups.forEach((group, index) => {
    if (group.some((edit) => taken.some((other) => overlaps(edit, other)))) return;
    taken.push(...group);
    applied[index] = true;
  });
  let result = text;
  for (const edit of taken.sort((a, b) => b.offset - a.offset)) result = result.slice(0, edit.offset) + edit.text + result.slice(edit.offset + edit.length);
  return { text: result, applied };
}

function parentAndPair(document: Document.Parsed, path: readonly Key[]): { parent: YAMLMap; pair: Pair<Node, Node> | undefined } | undefined {
  const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
  if (!isMap(parent) || parent.flow) return undefined;
  const name = String(path[path.length - 1]);
  const pair = (parent.items as Pair<Node, Node>[]).find((candidate) => isScalar(candidate.key) && String(candidate.key.value) === name);
  return { parent, pair };
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Just past the end of the line that `offset` is on, or past the line already ended just before it. */
function lineEnd(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset;
  const newline = text.indexOf('\n', offset);
  return newline < 0 ? text.length : newline + 1;
}

/** A key and its value, whole lines of a block map, taken out. */
function removal(text: string, document: Document.Parsed, path: readonly Key[]): TextEdit[] | undefined {
  const found = parentAndPair(document, path);
  const keyRange = found?.pair?.key?.range;
  const valueRange = found?.pair?.value?.range ?? keyRange;
  if (!keyRange || !valueRange) return undefined;
  const start = lineStart(text, keyRange[0]);
  // Only whole lines that hold nothing but this key: `a: 1` in a line of its own.
  if (text.slice(start, keyRange[0]).trim() !== '') return undefined;
  const end = lineEnd(text, valueRange[1]);
  return [{ offset: start, length: end - start, text: '' }];
}

/** A scalar written as the original was: in the same quotes, or plain where plain is safe. */
function scalarText(value: string, like: Scalar | undefined): string {
  if (like?.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (like?.type === Scalar.PLAIN && /^[A-Za-z0-9_./:@-]+$/.test(value) && !/^[-?:]|:$/.test(value) && !/^(?:true|false|null|~|yes|no|on|off|[\d.+-]+)$/i.test(value)) return value;
  return JSON.stringify(value);
}

/** A value as YAML text: a string in the quotes of the scalar it replaces; true, false and numbers plain. */
function valueText(value: unknown, like: Scalar | undefined): string | undefined {
  if (typeof value === 'string') return scalarText(value, like);
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return String(value);
  return undefined;
}

/**
 * A new value for a scalar where it stands, or a new key at the end of an existing block map.
 * `written` is the value's text as it stood elsewhere in the file (a moved field keeps it).
 */
function setting(text: string, document: Document.Parsed, path: readonly Key[], value: unknown, written: string | undefined): TextEdit[] | undefined {
  const found = parentAndPair(document, path);
  if (!found) return undefined;
  const { parent, pair } = found;
  if (pair) {
    const node = pair.value;
    const replacement = isScalar(node) ? (written ?? valueText(value, node)) : undefined;
    if (!isScalar(node) || !node.range || replacement === undefined) return undefined;
    return [{ offset: node.range[0], length: node.range[1] - node.range[0], text: replacement }];
  }
  const newValue = written ?? valueText(value, undefined);
  if (newValue === undefined) return undefined;
  const last = parent.items[parent.items.length - 1] as Pair<Node, Node> | undefined;
  const lastKey = last?.key?.range;
  const lastValue = last?.value?.range ?? lastKey;
  if (!lastKey || !lastValue) return undefined;
  const indent = text.slice(lineStart(text, lastKey[0]), lastKey[0]);
  if (indent.trim() !== '') return undefined;
  const at = lineEnd(text, lastValue[1]);
  const ending = at > 0 && text[at - 1] === '\n' ? '' : '\n';
  return [{ offset: at, length: 0, text: `${ending}${indent}${String(path[path.length - 1])}: ${newValue}\n` }];
}

/** A renamed key where it stands (a typo); a key moved to another map: taken out and added there. */
function move(text: string, document: Document.Parsed, from: readonly Key[], to: readonly Key[]): TextEdit[] | undefined {
  const sameParent = from.length === to.length && from.slice(0, -1).every((key, index) => String(key) === String(to[index]));
  const found = parentAndPair(document, from);
  const key = found?.pair?.key;
  if (!found?.pair || !isScalar(key) || !key.range) return undefined;
  if (sameParent) return [{ offset: key.range[0], length: key.range[1] - key.range[0], text: scalarText(String(to[to.length - 1]), key) }];
  const value = found.pair.value;
  if (!isScalar(value) || !value.range) return undefined;
  const taken = removal(text, document, from);
  const added = setting(text, document, to, value.value, text.slice(value.range[0], value.range[1]));
  return taken && added ? [...taken, ...added] : undefined;
}
