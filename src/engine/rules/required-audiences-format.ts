import type { RuleFinding, Rule } from '../rule.js';
import { setsRequiredAudiences } from './facts.js';

/**
 * Muster turns each entry into a Dex cross-client scope with giantswarm/mcp-oauth, which accepts
 * only `^[a-zA-Z0-9_-]+$`, at most 256 characters and at most 50 entries (providers/dex/audience.go,
 * `ValidateAudience`); Muster drops what it refuses at run time with a log line, saying entries
 * "should already be validated at CRD admission" (internal/aggregator/connection_helper.go,
 * internal/api/handlers.go and its test TestCollectRequiredAudiencesWithInvalidAudiences). The
 * CRD checks none of it, so admission must.
 */
const AUDIENCE = /^[a-zA-Z0-9_-]+$/;
export const MAX_AUDIENCE_LENGTH = 256;
export const MAX_AUDIENCES = 50;

export const requiredAudiencesFormat: Rule = {
  id: 'required-audiences-format',
  description: `Each spec.auth.requiredAudiences entry is letters, digits, '-' and '_' only, at most ${MAX_AUDIENCE_LENGTH} characters, and there are at most ${MAX_AUDIENCES}.`,
  fix: 'Use the OAuth client ID of the audience exactly as the IdP knows it (letters, digits, - and _); split long lists across servers.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: setsRequiredAudiences,
  check: ({ spec }) => {
    const audiences = spec.auth?.requiredAudiences ?? [];
    const findings: RuleFinding[] = audiences.flatMap((audience, index): RuleFinding[] => {
      const field = ['spec', 'auth', 'requiredAudiences', index];
      if (audience.length > MAX_AUDIENCE_LENGTH) {
        return [
          {
            field,
            message: `is longer than ${MAX_AUDIENCE_LENGTH} characters, so Muster drops it and the token lacks this audience: use the client ID as the IdP knows it`,
            summary: `must be at most ${MAX_AUDIENCE_LENGTH} characters`,
          },
        ];
      }
      if (AUDIENCE.test(audience)) return [];
      return [
        {
          field,
          message: `is ${audience === '' ? 'empty' : "not letters, digits, '-' and '_' only"}, so Muster drops it and the token lacks this audience: use the client ID as the IdP knows it`,
          summary: 'must be letters, digits, - and _ only',
        },
      ];
    });
    if (audiences.length > MAX_AUDIENCES) {
      findings.push({
        field: ['spec', 'auth', 'requiredAudiences'],
        message: `lists ${audiences.length} audiences, more than the ${MAX_AUDIENCES} Muster's OAuth library accepts, so Muster drops audiences at run time: keep ${MAX_AUDIENCES} at most`,
        summary: `must list at most ${MAX_AUDIENCES} audiences`,
      });
    }
    return findings;
  },
};
