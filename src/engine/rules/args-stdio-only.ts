import type { Rule } from '../rule.js';
import { isRemote } from './facts.js';

export const argsStdioOnly: Rule = {
  id: 'args-stdio-only',
  description: 'spec.args is set only for stdio servers.',
  fix: 'Remove spec.args: a remote server takes no command-line arguments from Muster.',
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: "self.spec.type == 'stdio' || !has(self.spec.args)",
  concerns: (spec) => spec.args !== undefined,
  check: ({ spec }) =>
    isRemote(spec) && spec.args !== undefined
      ? [
          {
            field: ['spec', 'args'],
            message: `is only allowed when spec.type is stdio, not ${spec.type}: remove it, a remote server takes no command-line arguments`,
            summary: 'is only for stdio servers: remove it',
            fix: { description: 'remove spec.args, which a remote server does not take', patch: [{ op: 'remove', path: '/spec/args' }], safe: true },
          },
        ]
      : [],
};
