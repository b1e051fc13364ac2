import { compareText } from './verdict.js';

/** `a`, `a and b`, `a, b and c`: lists inside messages read as English. */
export function listInWords(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Names in a message: the first few, and how many more, so that a large fleet keeps it short. */
export function someNames(names: readonly string[], shown = 3): string {
  if (names.length <= shown) return listInWords(names);
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

/** The order in which other servers are named in messages: by `namespace/name`, the same on every run. */
export function byDisplayName(a: { readonly displayName: string }, b: { readonly displayName: string }): number {
  return compareText(a.displayName, b.displayName);
}
