import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { isRemote, perUserAuth } from './facts.js';

/** Connections made per user carry the user's bearer token and no spec.headers (see perUserAuth). */
export const headersIgnoredPerUser: Rule = {
  id: 'headers-ignored-per-user',
  description: "spec.headers is not set on a server whose connections Muster makes per user (OAuth login, forwardToken, token exchange), which send only the user's token.",
  fix: 'Remove spec.headers, or drop the per-user authentication if the server needs those headers.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: (spec) => spec.headers !== undefined && spec.auth !== undefined && isRemote(spec),
  check: ({ spec }) => {
    const settings = perUserAuth(spec);
    return spec.headers !== undefined && settings.length > 0
      ? [
          {
            field: ['spec', 'headers'],
            message: `are not sent on this server's per-user connections: with spec.auth ${listInWords(settings)}, Muster sends only the user's bearer token: remove them, or drop the per-user authentication`,
            summary: 'are not sent on per-user connections: remove them',
          },
        ]
      : [];
  },
};
