import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { forwardsToken, tokenExchangeEnabled } from './facts.js';

export const authRemoteOnly: Rule = {
  id: 'auth-remote-only',
  description: 'Authentication other than `auth.type: none` is configured only for remote servers.',
  fix: 'Remove spec.auth from the stdio server, or make it a streamable-http or sse server.',
  defaults: { manifest: 'deny', admission: 'deny' },
  check: ({ spec }) => {
    const auth = spec.auth;
    if (spec.type !== 'stdio' || !auth) return [];
    const settings = [
      auth.type === 'oauth' && 'type: oauth',
      forwardsToken(spec) && 'forwardToken: true',
      tokenExchangeEnabled(spec) && 'tokenExchange.enabled: true',
      auth.authorizationServer !== undefined && 'authorizationServer',
    ].filter((setting) => setting !== false);
    if (settings.length === 0) return [];
    return [
      {
        field: ['spec', 'auth'],
        message: `sets ${listInWords(settings)}, but authentication is only supported for streamable-http and sse servers, not stdio: remove it or set spec.auth.type to none`,
        summary: 'is only for remote servers: remove it',
      },
    ];
  },
};
