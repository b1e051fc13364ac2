import type { Rule } from '../rule.js';
import { isRemote } from './facts.js';

/**
 * Muster passes spec.env to stdio processes only; a remote server's client is built from spec.url
 * and spec.headers (NewMCPClientFromType, internal/mcpserver/client_factory.go). The CRD's own
 * description says env "can be used" for remote servers, which is what makes this worth a word.
 */
export const envIgnoredForRemote: Rule = {
  id: 'env-ignored-for-remote',
  description: 'spec.env is set only for stdio servers: Muster ignores it for remote ones.',
  fix: 'Remove spec.env from the remote server; send what the server needs in spec.headers.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: (spec) => spec.env !== undefined,
  check: ({ spec }) =>
    isRemote(spec) && spec.env !== undefined
      ? [
          {
            field: ['spec', 'env'],
            message: `is passed only to stdio processes, so Muster ignores it for a ${spec.type} server: remove it, and send what the server needs in spec.headers`,
            summary: 'is ignored for remote servers: remove it',
            fix: { description: 'remove spec.env, which Muster ignores for remote servers', patch: [{ op: 'remove', path: '/spec/env' }], safe: true },
          },
        ]
      : [],
};
