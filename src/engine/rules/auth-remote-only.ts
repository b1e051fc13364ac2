import type { Rule } from '../rule.js';

/**
 * Muster refuses a stdio server whose auth.type is set to anything but none (validateMCPServer,
 * internal/mcpserver/api_adapter.go, giantswarm/muster: `Auth.Type != "" && Auth.Type != "none"`).
 * The other auth settings it accepts on stdio, and ignores: auth-ignored-for-stdio says so.
 */
export const authRemoteOnly: Rule = {
  id: 'auth-remote-only',
  description: 'spec.auth.type: oauth is set only for remote servers; Muster refuses it on a stdio server.',
  fix: 'Remove spec.auth from the stdio server, or make it a streamable-http or sse server.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: (spec) => spec.auth?.type === 'oauth',
  check: ({ spec }) =>
    spec.type === 'stdio' && spec.auth?.type === 'oauth'
      ? [
          {
            field: ['spec', 'auth', 'type'],
            message: 'is oauth, but Muster supports authentication only for streamable-http and sse servers and refuses it on stdio: remove spec.auth, or make this a remote server',
            summary: 'oauth is only for remote servers: remove it',
          },
        ]
      : [],
};
