import type { Finding } from '../engine/index.js';

/**
 * A finding as one self-contained line that ends with its rule ID in brackets, so a reader of
 * kubectl, Flux or Argo CD output can tell which rule spoke and look it up. A message that
 * already ends with its tag (the engine's internal-error finding does) is not tagged twice.
 */
export function taggedMessage(finding: Finding): string {
  const { text, tag } = messageAndTag(finding);
  return `${text} ${tag}`;
}

/** The message without its trailing rule tag, and the tag, for callers that must shorten the text. */
export function messageAndTag(finding: Finding): { text: string; tag: string } {
  const tag = `[${finding.rule}]`;
  const text = finding.message.endsWith(tag) ? finding.message.slice(0, -tag.length).trimEnd() : finding.message;
  return { text, tag };
}

/** Header names and URLs in messages come from the object and may hold any character. */
export function toPlainAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

const ELLIPSIS = '...';

/**
 * Cuts the text at a word boundary so that text and suffix fit in `maxLength` characters, keeping
 * the suffix whole.
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
