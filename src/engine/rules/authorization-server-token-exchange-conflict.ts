import type { Rule } from '../rule.js';
import { overridesAuthorizationServer, tokenExchangeEnabled } from './facts.js';

export const authorizationServerTokenExchangeConflict: Rule = {
  id: 'authorization-server-token-exchange-conflict',
  description: 'spec.auth.authorizationServer and spec.auth.tokenExchange.enabled: true are not set together.',
  fix: "Remove spec.auth.authorizationServer to use token exchange, or disable token exchange to use the server's own login.",
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: '!(has(self.tokenExchange) && has(self.tokenExchange.enabled) && self.tokenExchange.enabled == true && has(self.authorizationServer))',
  concerns: overridesAuthorizationServer,
  check: ({ spec }) =>
    spec.auth?.authorizationServer !== undefined && tokenExchangeEnabled(spec)
      ? [
          {
            field: ['spec', 'auth', 'authorizationServer'],
            message:
              'cannot be combined with spec.auth.tokenExchange.enabled: true, because token exchange brings its own issuer and endpoint: remove one of the two',
            summary: 'drop it or tokenExchange',
          },
        ]
      : [],
};
