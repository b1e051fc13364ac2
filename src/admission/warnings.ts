import type { Finding } from '../engine/index.js';
import { fitText, messageAndTag, toPlainAscii } from './finding-text.js';

/**
 * The API server passes warnings to every client (kubectl prints `Warning: ...`) and asks for
 * them to be short, plain text and few; it truncates or drops the rest.
 */
export const MAX_WARNING_LENGTH = 119;
export const MAX_WARNINGS = 10;

export function admissionWarnings(findings: readonly Finding[]): string[] {
  const lines = findings.map((finding) => {
    const { text, tag } = messageAndTag(finding);
    return fitText(toPlainAscii(text), ` ${tag}`, MAX_WARNING_LENGTH);
  });
  if (lines.length <= MAX_WARNINGS) return lines;
  const shown = lines.slice(0, MAX_WARNINGS - 1);
  const hidden = lines.length - shown.length;
  return [...shown, `${hidden} more warnings: mcpserver-webhook validate --context admission lists them all`];
}

