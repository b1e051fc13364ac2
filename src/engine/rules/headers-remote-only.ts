import type { Rule } from '../rule.js';

export const headersRemoteOnly: Rule = {
  id: 'headers-remote-only',
  description: 'spec.headers is set only for remote servers (streamable-http, sse).',
  fix: 'Remove spec.headers, or pass the values to the stdio process through spec.env.',
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: "self.spec.type != 'stdio' || !has(self.spec.headers)",
  concerns: (spec) => spec.headers !== undefined,
  check: ({ spec }) =>
    spec.type === 'stdio' && spec.headers !== undefined
      ? [
          {
            field: ['spec', 'headers'],
            message: 'is only allowed when spec.type is streamable-http or sse, not stdio: remove it, or pass the values to the process through spec.env',
            summary: 'is only for remote servers: use spec.env',
            fix: { description: 'remove spec.headers, which a stdio server is never sent', patch: [{ op: 'remove', path: '/spec/headers' }], safe: true },
          },
        ]
      : [],
};
