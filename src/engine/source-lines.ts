import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/**
 * The 1-based line of the field at `keys` in a parsed YAML (or JSON) document, or of the
 * nearest ancestor that exists (a missing required field is reported where its parent is).
 * With `atKey`, the line of the last key itself rather than of its value.
 */
export function lineOf(
  document: Document.Parsed,
  counter: LineCounter,
  keys: readonly (string | number)[],
  atKey = false,
): number {
  let node: unknown = document.contents;
  let line = lineAt(node, counter) ?? 1;
  for (const [depth, key] of keys.entries()) {
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
      if (pair && atKey && depth === keys.length - 1) return lineAt(pair.key, counter) ?? line;
      next = pair?.value;
      if (pair && next == null) return lineAt(pair.key, counter) ?? line;
    } else if (isSeq(node) && typeof key === 'number') {
      next = node.items[key];
    }
    const nextLine = lineAt(next, counter);
    if (nextLine === undefined) return line;
    node = next;
    line = nextLine;
  }
  return line;
}

function lineAt(node: unknown, counter: LineCounter): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? counter.linePos(range[0]).line : undefined;
}
