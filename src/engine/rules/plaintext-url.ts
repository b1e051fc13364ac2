import { isPlainHttp } from '../network.js';
import type { Rule } from '../rule.js';
import { remoteUrl } from './facts.js';

export const plaintextUrl: Rule = {
  id: 'plaintext-url',
  description: 'A remote server is reached over https, not plain http.',
  fix: 'Use an https:// URL; for an in-cluster service encrypted by a service mesh, set this rule to audit for its namespace.',
  defaults: { manifest: 'warn', admission: 'warn' },
  check: ({ spec }) => {
    const url = remoteUrl(spec);
    return url && isPlainHttp(url)
      ? [
          {
            field: ['spec', 'url'],
            message: 'uses plain http://, so MCP traffic to this server is not encrypted: use https://',
            summary: 'sends MCP traffic unencrypted: use https://',
          },
        ]
      : [];
  },
};
