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
