import { parseUrl } from '../network.js';
import type { Rule } from '../rule.js';
import { usesTokenExchange } from './facts.js';

/**
 * Without expectedIssuer, Muster checks the exchanged token's `iss` against dexTokenEndpoint with a
 * trailing `/token` removed (GetExpectedIssuer and deriveIssuerFromTokenEndpoint,
 * internal/oauth/token_exchange.go). An endpoint that does not end in `/token` (a proxy, a path of
 * its own) gives an issuer no Dex has, and every exchange fails its issuer check.
 */
export const expectedIssuerRequired: Rule = {
  id: 'expected-issuer-required',
  description: 'Token exchange sets expectedIssuer when dexTokenEndpoint does not end in /token, from which Muster would derive it.',
  fix: "Set spec.auth.tokenExchange.expectedIssuer to the remote Dex's issuer URL, e.g. https://dex.cluster-b.example.com.",
  defaults: { manifest: 'deny', admission: 'deny' },
  check: ({ spec }) => {
    const exchange = spec.auth?.tokenExchange;
    if (!usesTokenExchange(spec) || exchange?.expectedIssuer) return [];
    const endpoint = parseUrl(exchange?.dexTokenEndpoint ?? '');
    if (!endpoint || endpoint.pathname.endsWith('/token')) return [];
    return [
      {
        field: ['spec', 'auth', 'tokenExchange', 'expectedIssuer'],
        message:
          "is required because dexTokenEndpoint does not end in /token, so Muster cannot derive the issuer from it and every exchanged token fails its issuer check: set it to the remote Dex's issuer, e.g. https://dex.cluster-b.example.com",
        summary: 'is required: no /token to derive it',
      },
    ];
  },
};
