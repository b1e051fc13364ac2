import type { Rule } from '../rule.js';
import { parseUrl } from '../network.js';

const FIELD = ['spec', 'auth', 'authorizationServer', 'issuer'] as const;

/**
 * RFC 8414 builds the metadata URL by inserting `/.well-known/oauth-authorization-server`
 * into the issuer, and compares the issuer byte for byte: a trailing slash, query or fragment
 * makes discovery fail at login time, long after the object was accepted.
 */
function issuerProblem(issuer: string | undefined): string | undefined {
  if (!issuer) return 'is required: set it to the https:// URL of the OAuth issuer, e.g. https://auth.atlassian.com';
  const url = parseUrl(issuer);
  if (!url || url.hostname === '') return 'must be an absolute https:// URL with a host, e.g. https://auth.atlassian.com';
  if (url.protocol !== 'https:') return 'must use https:// (RFC 8414 requires TLS for issuers)';
  if (/\s/.test(issuer)) return 'must not contain white space';
  if (url.username || url.password) return 'must not carry credentials: remove the user:password@ part';
  if (issuer.includes('?')) return 'must not have a query (RFC 8414): remove everything from ?';
  if (issuer.includes('#')) return 'must not have a fragment (RFC 8414): remove everything from #';
  if (issuer.endsWith('/')) return 'must not end with / (RFC 8414 compares issuers exactly): remove the trailing slash';
  return undefined;
}

export const authorizationServerIssuer: Rule = {
  id: 'authorization-server-issuer',
  description: 'spec.auth.authorizationServer.issuer is set, and is an https URL without trailing slash, query or fragment (RFC 8414).',
  fix: 'Set the issuer exactly as the authorization server publishes it, e.g. https://auth.atlassian.com.',
  defaults: { manifest: 'deny', admission: 'deny' },
  check: ({ spec }) => {
    const override = spec.auth?.authorizationServer;
    if (override === undefined) return [];
    const problem = issuerProblem(override.issuer);
    return problem ? [{ field: FIELD, message: `spec.auth.authorizationServer.issuer ${problem}` }] : [];
  },
};
