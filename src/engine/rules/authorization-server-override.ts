import type { Rule } from '../rule.js';
import { overridesAuthorizationServer } from './facts.js';

/**
 * Not an error: Muster supports the override, and logs each use of it so that non-compliant
 * backends stay visible (the CRD's description of authorizationServer). A backend without
 * RFC 9728 metadata deserves an operator's eye once.
 */
export const authorizationServerOverride: Rule = {
  id: 'authorization-server-override',
  description: 'Flags use of the spec.auth.authorizationServer override, for backends that do not publish RFC 9728 metadata.',
  fix: 'Nothing to fix if the backend really lacks RFC 9728 metadata; once reviewed, set this rule to audit for the namespace.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: overridesAuthorizationServer,
  check: ({ spec }) =>
    spec.auth?.authorizationServer !== undefined
      ? [
          {
            field: ['spec', 'auth', 'authorizationServer'],
            message:
              'overrides RFC 9728 discovery for a backend that does not publish it; Muster logs every use, and the server shows Auth Required until a user logs in: nothing to fix if the backend lacks that metadata',
            summary: 'skips RFC 9728 discovery: review once',
          },
        ]
      : [],
};
