import type { Rule, RuleFinding } from '../rule.js';
import { parseUrl } from '../network.js';
import { overridesAuthorizationServer } from './facts.js';

const FIELD = ['spec', 'auth', 'authorizationServer', 'issuer'] as const;

type Problem = Omit<RuleFinding, 'field'>;

/**
 * RFC 8414 builds the metadata URL by inserting `/.well-known/oauth-authorization-server`
 * into the issuer, and compares the issuer byte for byte: a trailing slash, query or fragment
 * makes discovery fail at login time, long after the object was accepted. The CRD's pattern
 * refuses most of these too; credentials in the URL and white space get past it.
 */
function issuerProblem(issuer: string | undefined): Problem | undefined {
  if (!issuer) return { message: 'is required: set it to the https:// URL of the OAuth issuer, e.g. https://auth.atlassian.com', summary: 'is required: set the https:// issuer URL' };
  const url = parseUrl(issuer);
  if (!url || url.hostname === '') return { message: 'must be an absolute https:// URL with a host, e.g. https://auth.atlassian.com', summary: 'must be an https:// URL with a host' };
  if (url.protocol !== 'https:') return { message: 'must use https:// (RFC 8414 requires TLS for issuers)', summary: 'must use https:// (RFC 8414)' };
  if (/\s/.test(issuer)) return { message: 'must not contain white space', summary: 'must not contain white space' };
  if (url.username || url.password) return { message: 'must not carry credentials: remove the user:password@ part', summary: 'must not carry user:password@: remove it' };
  if (issuer.includes('?')) return { message: 'must not have a query (RFC 8414): remove everything from ?', summary: 'must not have a query: drop it' };
  if (issuer.includes('#')) return { message: 'must not have a fragment (RFC 8414): remove everything from #', summary: 'must not have a fragment: drop it' };
  if (issuer.endsWith('/')) {
    return {
      message: 'must not end with / (RFC 8414 compares issuers exactly): remove the trailing slash',
      summary: 'must not end with /: remove it',
      fix: { description: 'drop the trailing slash of the issuer', patch: [{ op: 'replace', path: '/spec/auth/authorizationServer/issuer', value: issuer.replace(/\/+$/, '') }], safe: true },
    };
  }
  return undefined;
}

export const authorizationServerIssuer: Rule = {
  id: 'authorization-server-issuer',
  description: 'spec.auth.authorizationServer.issuer is set, and is an https URL without trailing slash, query or fragment (RFC 8414).',
  fix: 'Set the issuer exactly as the authorization server publishes it, e.g. https://auth.atlassian.com.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: overridesAuthorizationServer,
  check: ({ spec }) => {
    const override = spec.auth?.authorizationServer;
    if (override === undefined) return [];
    const problem = issuerProblem(override.issuer);
    return problem ? [{ field: FIELD, ...problem }] : [];
  },
};
