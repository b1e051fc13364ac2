import type { Rule } from '../rule.js';
import { forwardsToken, overridesAuthorizationServer } from './facts.js';

export const authorizationServerForwardTokenConflict: Rule = {
  id: 'authorization-server-forward-token-conflict',
  description: 'spec.auth.authorizationServer and spec.auth.forwardToken: true are not set together.',
  fix: "Remove spec.auth.authorizationServer to use Muster's forwarded identity, or set forwardToken to false to use the server's own login.",
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: '!(has(self.forwardToken) && self.forwardToken == true && has(self.authorizationServer))',
  concerns: overridesAuthorizationServer,
  check: ({ spec }) =>
    spec.auth?.authorizationServer !== undefined && forwardsToken(spec)
      ? [
          {
            field: ['spec', 'auth', 'authorizationServer'],
            message:
              "cannot be combined with spec.auth.forwardToken: true, because a server with its own OAuth login does not take Muster's forwarded token: remove one of the two",
            summary: 'drop it or forwardToken',
          },
        ]
      : [],
};
