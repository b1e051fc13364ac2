import { parseUrl } from '../network.js';
import type { Fix } from '../fix.js';
import type { Rule, RuleFinding } from '../rule.js';
import { usesTokenExchange } from './facts.js';

const EXPECTED_ISSUER = ['spec', 'auth', 'tokenExchange', 'expectedIssuer'] as const;

/**
 * The issuer Muster checks an exchanged token against when expectedIssuer is not set:
 * dexTokenEndpoint with a trailing `/token`, then a trailing `/`, removed from its path, and
 * everything else kept, query and fragment included (GetExpectedIssuer and
 * deriveIssuerFromTokenEndpoint, internal/oauth/token_exchange.go, giantswarm/muster).
 */
export function derivedIssuer(endpoint: URL): string {
  const path = endpoint.pathname.replace(/\/token$/, '').replace(/\/$/, '');
  return `${endpoint.origin}${path}${endpoint.search}${endpoint.hash}`;
}

/**
 * A Dex serves its token endpoint at `{issuer}/token`, so the issuer Muster derives is right for an
 * endpoint of that form (a bare host included: it derives exactly that host). It is wrong, and
 * every exchanged token fails its issuer check, when the endpoint keeps a query or fragment (the
 * derived issuer keeps it too), ends in `/token/` (only the slash is removed), or has a path of
 * its own that does not end in `/token` (a proxy).
 */
function problem(endpoint: URL, text: string): Omit<RuleFinding, 'field'> | undefined {
  if (endpoint.search || endpoint.hash) {
    const implied = derivedIssuer(new URL(`${endpoint.origin}${endpoint.pathname}`));
    const fix: Fix = {
      description: `set expectedIssuer to ${implied}, the endpoint's issuer without its query`,
      patch: [{ op: 'add', path: '/spec/auth/tokenExchange/expectedIssuer', value: implied }],
      safe: false,
    };
    return {
      message: `is required because dexTokenEndpoint has a query or fragment, which Muster keeps in the issuer it derives (a query may hold a secret: it is not repeated here), so every exchanged token fails its issuer check: set it to the remote Dex's issuer, e.g. ${implied}`,
      summary: 'is required: endpoint has a query',
      fix,
    };
  }
  const derived = derivedIssuer(endpoint);
  if (text.endsWith('/token/')) {
    const fix: Fix = {
      description: 'drop the trailing slash of dexTokenEndpoint',
      patch: [{ op: 'replace', path: '/spec/auth/tokenExchange/dexTokenEndpoint', value: text.slice(0, -1) }],
      safe: true,
    };
    return {
      message: `is required because dexTokenEndpoint ends in /token/, from which Muster removes only the slash and derives ${derived}, an issuer no Dex has: drop the trailing slash of dexTokenEndpoint, or set expectedIssuer`,
      summary: 'is required: endpoint ends in /token/',
      fix,
    };
  }
  if (endpoint.pathname === '/' || endpoint.pathname.endsWith('/token')) return undefined;
  return {
    message: `is required because dexTokenEndpoint does not end in /token, so the issuer Muster derives from it (${derived}) is no Dex's and every exchanged token fails its issuer check: set it to the remote Dex's issuer, e.g. https://dex.cluster-b.example.com`,
    summary: 'is required: no /token to derive it from',
  };
}

export const expectedIssuerRequired: Rule = {
  id: 'expected-issuer-required',
  description: 'Token exchange sets expectedIssuer when the issuer Muster would derive from dexTokenEndpoint (it removes a trailing /token) is wrong: a path of another form, /token/, a query or a fragment.',
  fix: "Set spec.auth.tokenExchange.expectedIssuer to the remote Dex's issuer URL, e.g. https://dex.cluster-b.example.com, or correct dexTokenEndpoint.",
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: usesTokenExchange,
  check: ({ spec }) => {
    const exchange = spec.auth?.tokenExchange;
    if (!usesTokenExchange(spec) || exchange?.expectedIssuer) return [];
    const text = exchange?.dexTokenEndpoint ?? '';
    const endpoint = parseUrl(text);
    const found = endpoint && problem(endpoint, text);
    return found ? [{ field: EXPECTED_ISSUER, ...found }] : [];
  },
};
