import { carriesCredential } from '../credentials.js';
import { isInClusterHost, isPlainHttp } from '../network.js';
import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { forwardsToken, hasHeaders, hasRemoteUrl, headerEntries, remoteUrl, sendsUserToken, tokenExchangeEnabled } from './facts.js';

/** Denied in every context: once sent in clear text across a network, a token cannot be unsent. */
export const credentialOverPlaintext: Rule = {
  id: 'credential-over-plaintext',
  description: 'No credential (header, forwarded or exchanged token, OAuth token) goes over plain http to a host outside the cluster.',
  fix: 'Use an https:// URL, or reach the server through an in-cluster service name.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: (spec) => hasRemoteUrl(spec) && (hasHeaders(spec) || spec.auth?.type === 'oauth' || sendsUserToken(spec)),
  check: ({ spec }) => {
    const url = remoteUrl(spec);
    if (!url || !isPlainHttp(url) || isInClusterHost(url.hostname)) return [];
    const credentials = [
      ...headerEntries(spec)
        .filter(([name, value]) => carriesCredential(name, value))
        .map(([name]) => `the ${name} header`)
        .sort(),
      ...(forwardsToken(spec) ? ['the forwarded ID token'] : []),
      ...(tokenExchangeEnabled(spec) ? ['the exchanged token'] : []),
      ...(spec.auth?.type === 'oauth' ? ['the OAuth access token'] : []),
    ];
    if (credentials.length === 0) return [];
    return [
      {
        field: ['spec', 'url'],
        message: `sends ${listInWords(credentials)} over plain http:// to ${url.hostname}, outside the cluster, where anyone on the path can read it: use https://`,
        summary: 'sends credentials over plain http://: use https://',
      },
    ];
  },
};
