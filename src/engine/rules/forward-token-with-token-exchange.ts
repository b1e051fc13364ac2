import type { Rule } from '../rule.js';
import { forwardsToken, tokenExchangeEnabled } from './facts.js';

/** Token exchange takes precedence over forwarding (ShouldUseTokenExchange, internal/aggregator/connection_helper.go). */
export const forwardTokenWithTokenExchange: Rule = {
  id: 'forward-token-with-token-exchange',
  description: 'spec.auth.forwardToken and token exchange are not both on (token exchange wins, so forwardToken does nothing).',
  fix: 'Remove spec.auth.forwardToken, or disable token exchange if forwarding was meant.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: forwardsToken,
  check: ({ spec }) =>
    forwardsToken(spec) && tokenExchangeEnabled(spec)
      ? [
          {
            field: ['spec', 'auth', 'forwardToken'],
            message: 'has no effect while spec.auth.tokenExchange.enabled is true, because token exchange takes precedence: remove one of the two',
            summary: 'does nothing with token exchange on: drop one',
          },
        ]
      : [],
};
