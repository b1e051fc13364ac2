/**
 * A unified diff of two versions of a file, as `git apply` and `patch -p1` read it, with three
 * lines of context. Manifests are small: the longest common subsequence of their lines is found
 * directly; past MAX_CELLS the whole changed middle is one hunk.
 */
const CONTEXT = 3;
const MAX_CELLS = 4_000_000;

type Line = { readonly kind: ' ' | '-' | '+'; readonly text: string };

export function unifiedDiff(file: string, before: string, after: string): string {
  if (before === after) return '';
  const lines = diffLines(splitLines(before), splitLines(after));
  const hunks: string[] = [];
  let index = 0;
  while (index < lines.length) {
    const firstChange = lines.findIndex((line, at) => at >= index && line.kind !== ' ');
    if (firstChange < 0) break;
    const start = Math.max(index, firstChange - CONTEXT);
    let end = firstChange;
    // A hunk runs on while the next change is near enough that their contexts would touch.
    for (let at = firstChange; at < lines.length; at++) {
      if (lines[at]?.kind !== ' ') end = at;
      else if (at - end > 2 * CONTEXT) break;
    }
    const stop = Math.min(lines.length, end + CONTEXT + 1);
    hunks.push(hunk(lines, start, stop));
    index = stop;
  }
  // git's a/ and b/ prefixes for a relative path, as `git apply` and `patch -p1` expect.
  const [from, to] = file.startsWith('/') ? [file, file] : [`a/${file}`, `b/${file}`];
  return `--- ${from}\n+++ ${to}\n${hunks.join('')}`;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function hunk(lines: readonly Line[], start: number, stop: number): string {
  const oldStart = lines.slice(0, start).filter((line) => line.kind !== '+').length + 1;
  const newStart = lines.slice(0, start).filter((line) => line.kind !== '-').length + 1;
  const body = lines.slice(start, stop);
  const oldCount = body.filter((line) => line.kind !== '+').length;
  const newCount = body.filter((line) => line.kind !== '-').length;
  return `@@ -${oldCount === 0 ? oldStart - 1 : oldStart},${oldCount} +${newCount === 0 ? newStart - 1 : newStart},${newCount} @@\n${body.map((line) => `${line.kind}${line.text}\n`).join('')}`;
}

function diffLines(before: readonly string[], after: readonly string[]): Line[] {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const oldMiddle = before.slice(prefix, before.length - suffix);
  const newMiddle = after.slice(prefix, after.length - suffix);
  const same = (texts: readonly string[]): Line[] => texts.map((text) => ({ kind: ' ', text }));
  return [...same(before.slice(0, prefix)), ...middle(oldMiddle, newMiddle), ...same(before.slice(before.length - suffix))];
}

/** The changed middle, by the longest common subsequence of its lines. */
function middle(before: readonly string[], after: readonly string[]): Line[] {
  const removed = before.map((text): Line => ({ kind: '-', text }));
  const added = after.map((text): Line => ({ kind: '+', text }));
  if ((before.length + 1) * (after.length + 1) > MAX_CELLS) return [...removed, ...added];
  const width = after.length + 1;
  const common = new Uint32Array((before.length + 1) * width);
  for (let i = before.length - 1; i >= 0; i--) {
    for (let j = after.length - 1; j >= 0; j--) {
      common[i * width + j] = before[i] === after[j] ? (common[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(common[(i + 1) * width + j] ?? 0, common[i * width + j + 1] ?? 0);
    }
  }
  const lines: Line[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      lines.push({ kind: ' ', text: before[i++] ?? '' });
      j++;
    } else if (i < before.length && (j === after.length || (common[(i + 1) * width + j] ?? 0) >= (common[i * width + j + 1] ?? 0))) {
      lines.push({ kind: '-', text: before[i++] ?? '' });
    } else {
      lines.push({ kind: '+', text: after[j++] ?? '' });
    }
  }
  return lines;
}
