import { isLoopbackHost, isPlainHttp } from '../network.js';
import type { Rule } from '../rule.js';
import { hasRemoteUrl, remoteUrl } from './facts.js';

export const plaintextUrl: Rule = {
  id: 'plaintext-url',
  description: 'A remote server is reached over https, not plain http, unless it is on the loopback interface (localhost, 127.0.0.0/8, ::1), where no traffic leaves the host.',
  fix: 'Use an https:// URL; for an in-cluster service encrypted by a service mesh, set this rule to audit for its namespace.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: hasRemoteUrl,
  check: ({ spec }) => {
    const url = remoteUrl(spec);
    return url && isPlainHttp(url) && !isLoopbackHost(url.hostname)
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
