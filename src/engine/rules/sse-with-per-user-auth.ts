import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { connectsPerUser, perUserAuth } from './facts.js';

/** Connections made per user use the streamable-HTTP client whatever spec.type says (see perUserAuth). */
export const sseWithPerUserAuth: Rule = {
  id: 'sse-with-per-user-auth',
  description: 'A server with per-user authentication (OAuth login, forwardToken, token exchange) is not type sse: those connections use streamable HTTP.',
  fix: 'Set spec.type to streamable-http if the server speaks it; an sse-only server cannot take per-user authentication.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: connectsPerUser,
  check: ({ spec }) => {
    const settings = perUserAuth(spec);
    return spec.type === 'sse' && settings.length > 0
      ? [
          {
            field: ['spec', 'type'],
            message: `is sse, but with spec.auth ${listInWords(settings)} Muster connects per user with the streamable-HTTP client: set it to streamable-http if the server speaks it`,
            summary: 'is sse, but per-user connections use streamable HTTP',
            // Only if the server speaks streamable HTTP: for a person to confirm.
            fix: { description: 'set spec.type to streamable-http', patch: [{ op: 'replace', path: '/spec/type', value: 'streamable-http' }], safe: false },
          },
        ]
      : [];
  },
};
