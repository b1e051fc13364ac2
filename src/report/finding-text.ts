import type { Finding } from '../engine/index.js';

/**
 * A finding as one self-contained sentence, `path: message`, for every place where the message
 * stands alone: the status message Flux and Argo CD show, SARIF, Events, PolicyReports, the
 * `validate` output and the verdict API. kubectl prints a denial's causes as `field: message`
 * itself, so there the message goes without its path.
 */
export function standaloneMessage(finding: Pick<Finding, 'path' | 'message'>): string {
  return finding.path ? `${finding.path}: ${finding.message}` : finding.message;
}

/** Text that ends with its rule ID in brackets, so a reader can tell which rule spoke and look it up. */
export function tagged(text: string, rule: string): string {
  return `${text} [${rule}]`;
}

/** `path: message [rule]`: a finding as one line that stands alone and names its rule. */
export function taggedStandaloneMessage(finding: Pick<Finding, 'path' | 'message' | 'rule'>): string {
  return tagged(standaloneMessage(finding), finding.rule);
}

/** Header names and URLs in messages come from the object and may hold any character. */
export function toPlainAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

const ELLIPSIS = '...';

/**
 * Cuts the text at a word boundary so that text and suffix fit in `maxLength` characters, keeping
 * the suffix whole. For lists of whole sentences (an Event that names several denials), where
 * the sentences that do not fit are counted in the suffix.
 */
export function fitText(text: string, suffix: string, maxLength: number): string {
  if (text.length + suffix.length <= maxLength) return `${text}${suffix}`;
  const room = maxLength - suffix.length - ELLIPSIS.length;
  const cut = text.slice(0, room);
  const lastSpace = cut.lastIndexOf(' ');
  // A cut in the middle of a long word is better than losing most of the sentence.
  const kept = lastSpace > room / 2 ? cut.slice(0, lastSpace) : cut;
  return `${kept.replace(/[\s,:;]+$/, '')}${ELLIPSIS}${suffix}`;
}
