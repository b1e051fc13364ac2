import type { Finding } from '../engine/index.js';
import { messageAndTag } from './finding-text.js';

/**
 * The API server passes warnings to every client (kubectl prints `Warning: ...`) and asks for
 * them to be short, plain text and few; it truncates or drops the rest.
 */
export const MAX_WARNING_LENGTH = 119;
export const MAX_WARNINGS = 10;
const ELLIPSIS = '...';

export function admissionWarnings(findings: readonly Finding[]): string[] {
  const lines = findings.map((finding) => {
    const { text, tag } = messageAndTag(finding);
    return fit(toPlainAscii(text), ` ${tag}`);
  });
  if (lines.length <= MAX_WARNINGS) return lines;
  const shown = lines.slice(0, MAX_WARNINGS - 1);
  const hidden = lines.length - shown.length;
  return [...shown, `${hidden} more warnings: mcpserver-webhook validate --context admission lists them all`];
}

/** Header names and URLs in messages come from the object and may hold any character. */
function toPlainAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Cuts the text at a word boundary so that text and suffix fit, keeping the suffix whole. */
function fit(text: string, suffix: string): string {
  if (text.length + suffix.length <= MAX_WARNING_LENGTH) return `${text}${suffix}`;
  const room = MAX_WARNING_LENGTH - suffix.length - ELLIPSIS.length;
  const cut = text.slice(0, room);
  const lastSpace = cut.lastIndexOf(' ');
  // A cut in the middle of a long word is better than losing most of the sentence.
  const kept = lastSpace > room / 2 ? cut.slice(0, lastSpace) : cut;
  return `${kept.replace(/[\s,:;]+$/, '')}${ELLIPSIS}${suffix}`;
}
