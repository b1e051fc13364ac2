import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { forwardsToken, sendsUserToken, tokenExchangeEnabled } from './facts.js';

/**
 * A stdio server with auth.type none (or unset) is accepted by Muster (validateMCPServer,
 * internal/mcpserver/api_adapter.go), but a process on stdin and stdout is sent no token: a
 * forwarded or exchanged token never reaches it (the per-user clients of
 * internal/aggregator/connection_helper.go are all HTTP clients).
 */
export const authIgnoredForStdio: Rule = {
  id: 'auth-ignored-for-stdio',
  description: 'spec.auth.forwardToken and spec.auth.tokenExchange are not turned on for a stdio server, to which Muster sends no token.',
  fix: 'Remove the setting: give the process what it needs through spec.env.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: sendsUserToken,
  check: ({ spec }) => {
    if (spec.type !== 'stdio' || spec.auth?.type === 'oauth') return [];
    const ignored = [
      ...(forwardsToken(spec) ? [{ setting: 'forwardToken: true', field: 'forwardToken' }] : []),
      ...(tokenExchangeEnabled(spec) ? [{ setting: 'tokenExchange.enabled: true', field: 'tokenExchange' }] : []),
    ];
    const settings = ignored.map(({ setting }) => setting);
    return ignored.length === 0
      ? []
      : [
          {
            field: ['spec', 'auth'],
            message: `sets ${listInWords(settings)}, which Muster ignores for a stdio server: a process on stdin and stdout is sent no token: remove it, and give the process what it needs through spec.env`,
            summary: 'is ignored for stdio servers: remove it',
            fix: {
              description: `remove ${listInWords(ignored.map(({ field }) => `spec.auth.${field}`))}, which Muster ignores for stdio servers`,
              patch: ignored.map(({ field }) => ({ op: 'remove' as const, path: `/spec/auth/${field}` })),
              safe: true,
            },
          },
        ];
  },
};
