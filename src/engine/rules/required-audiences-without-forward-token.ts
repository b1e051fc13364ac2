import type { Rule } from '../rule.js';
import { forwardsToken } from './facts.js';

export const requiredAudiencesWithoutForwardToken: Rule = {
  id: 'required-audiences-without-forward-token',
  description: 'spec.auth.requiredAudiences is set only together with spec.auth.forwardToken: true, the only case where it has an effect.',
  fix: 'Set spec.auth.forwardToken to true, or remove spec.auth.requiredAudiences.',
  defaults: { manifest: 'warn', admission: 'warn' },
  check: ({ spec }) =>
    spec.auth?.requiredAudiences !== undefined && !forwardsToken(spec)
      ? [
          {
            field: ['spec', 'auth', 'requiredAudiences'],
            message:
              'spec.auth.requiredAudiences has no effect unless spec.auth.forwardToken is true: set forwardToken to true, or remove requiredAudiences',
          },
        ]
      : [],
};
