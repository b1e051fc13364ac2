import type { Finding } from '../engine/index.js';
import { formatPath, type FieldPath } from '../engine/index.js';
import { fitText, standaloneMessage, tagged, toPlainAscii } from '../report/finding-text.js';

/**
 * The API server passes warnings to every client (kubectl prints `Warning: ...`) and asks for
 * them to be short (120 characters if possible), plain text and few; it truncates or drops the
 * rest (AdmissionResponse.warnings, k8s.io/api/admission/v1).
 */
export const MAX_WARNING_LENGTH = 120;
export const MAX_WARNINGS = 10;

/** Marks a denial let through because the object already had it before the UPDATE (ratcheting). */
export const RATCHETED_MARK = '(existing)';

/** The shortest a map key is cut to, in a path too long for the warning: enough to recognise it. */
const MIN_KEY_LENGTH = 8;

export function admissionWarnings(findings: readonly Finding[]): string[] {
  const lines = findings.map(warningText);
  if (lines.length <= MAX_WARNINGS) return lines;
  const shown = lines.slice(0, MAX_WARNINGS - 1);
  const hidden = lines.length - shown.length;
  return [...shown, `${hidden} more warnings: mcpserver-webhook validate --context admission lists them all`];
}

/**
 * `path: summary [rule]`: each rule's summary is written to fit, and a test holds every rule to
 * it. Only a map key from the object (a header name of any length) can make the line too long:
 * then the key is shortened, never the sentence.
 */
export function warningText(finding: Finding): string {
  const sentence = `${finding.summary}${finding.ratcheted ? ` ${RATCHETED_MARK}` : ''}`;
  const line = (path: string): string => toPlainAscii(tagged(standaloneMessage({ path, message: sentence }), finding.rule));
  const full = line(finding.path);
  if (full.length <= MAX_WARNING_LENGTH) return full;
  const keys = finding.field.filter((segment) => typeof segment === 'object').length;
  const room = Math.floor((keys === 0 ? 0 : (MAX_WARNING_LENGTH - line(formatPath(withKeys(finding.field, ''))).length) / keys) - 3);
  if (room >= MIN_KEY_LENGTH) return line(formatPath(withKeys(finding.field, room)));
  // Unreachable for the rules of this project (the test above); a last resort, not a way of writing.
  return fitText(toPlainAscii(sentence), ` [${finding.rule}]`, MAX_WARNING_LENGTH);
}

/** The path with every map key cut to `room` characters (and marked), or emptied for measuring. */
function withKeys(field: FieldPath, room: number | ''): FieldPath {
  return field.map((segment) => {
    if (typeof segment !== 'object') return segment;
    if (room === '') return { key: '' };
    return segment.key.length <= room ? segment : { key: `${segment.key.slice(0, room)}...` };
  });
}
