import { describe, expect, it } from 'vitest';
import { eventMessage, MAX_EVENT_MESSAGE_LENGTH } from '../../src/audit/events.js';
import type { Finding } from '../../src/engine/index.js';

const denial = (rule: string, message: string, path = 'spec.url'): Finding => ({ rule, path, message, summary: message, action: 'deny', field: path ? path.split('.') : [] });

describe('eventMessage', () => {
  it('joins the denials as the webhook words them, in their order', () => {
    expect(eventMessage([denial('a-rule', 'is wrong'), denial('b-rule', 'is also wrong')])).toBe('spec.url: is wrong [a-rule]; spec.url: is also wrong [b-rule]');
  });

  it('keeps whole denials within 1 KiB and counts the rest', () => {
    const denials = Array.from({ length: 12 }, (_, index) => denial(`rule-${index}`, `${'x'.repeat(100)} number ${index}`, ''));
    const message = eventMessage(denials);
    expect(message.length).toBeLessThanOrEqual(MAX_EVENT_MESSAGE_LENGTH);
    expect(message).toMatch(/number 7 \[rule-7\]; and 4 more \(mcpserver-webhook audit lists them all\)$/);
  });

  it('cuts a single denial longer than 1 KiB at a word, and keeps plain ASCII', () => {
    const message = eventMessage([denial('long', `${'word '.repeat(400)}`, 'spec.headers[Ünïcode]'), denial('other', 'short')]);
    expect(message.length).toBeLessThanOrEqual(MAX_EVENT_MESSAGE_LENGTH);
    expect(message).toMatch(/^spec\.headers\[\?n\?code\]: word word/);
    expect(message).toMatch(/word\.\.\.; and 1 more \(mcpserver-webhook audit lists them all\)$/);
  });
});
