import type { Rule } from '../rule.js';
import { overridesAuthorizationServer } from './facts.js';

export const authorizationServerOauthOnly: Rule = {
  id: 'authorization-server-oauth-only',
  description: 'spec.auth.authorizationServer is set only when spec.auth.type is oauth.',
  fix: 'Set spec.auth.type to oauth, or remove spec.auth.authorizationServer.',
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: "!has(self.authorizationServer) || self.type == 'oauth'",
  concerns: overridesAuthorizationServer,
  check: ({ spec }) =>
    spec.auth?.authorizationServer !== undefined && spec.auth.type !== 'oauth'
      ? [
          {
            field: ['spec', 'auth', 'authorizationServer'],
            message: 'is only valid when spec.auth.type is oauth (it defaults to none): set spec.auth.type to oauth, or remove the override',
            summary: 'needs spec.auth.type: oauth',
          },
        ]
      : [],
};
