import type { Rule } from '../rule.js';
import { forwardsToken, setsRequiredAudiences, usesTokenExchange } from './facts.js';

/**
 * Muster asks the IdP for these audiences only for a forwarded token (CollectRequiredAudiences in
 * internal/api/handlers.go takes servers with forwardToken: true) and adds them to the scopes of a
 * token exchange (WithResolvedRuntime, internal/api/token_exchange.go, called from
 * internal/aggregator/connection_helper.go). With neither they do nothing.
 */
export const requiredAudiencesUnused: Rule = {
  id: 'required-audiences-unused',
  description: 'spec.auth.requiredAudiences is set only with forwardToken: true or token exchange, the only cases where Muster uses it.',
  fix: 'Set spec.auth.forwardToken to true or configure token exchange, or remove spec.auth.requiredAudiences.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: setsRequiredAudiences,
  check: ({ spec }) =>
    spec.auth?.requiredAudiences !== undefined && !forwardsToken(spec) && !usesTokenExchange(spec)
      ? [
          {
            field: ['spec', 'auth', 'requiredAudiences'],
            message:
              'has no effect: Muster requests these audiences only for a forwarded token (forwardToken: true) or a token exchange: turn one of them on, or remove requiredAudiences',
            summary: 'is unused: no forwardToken or token exchange',
          },
        ]
      : [],
};
