import type { Rule } from '../rule.js';

export const stdioCommandRequired: Rule = {
  id: 'stdio-command-required',
  description: 'A stdio server has spec.command.',
  fix: 'Set spec.command to the executable that starts the MCP server.',
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: "self.spec.type != 'stdio' || has(self.spec.command)",
  concerns: (spec) => spec.type === 'stdio',
  check: ({ spec }) =>
    spec.type === 'stdio' && !spec.command
      ? [
          {
            field: ['spec', 'command'],
            message: 'is required when spec.type is stdio: set it to the executable that starts the MCP server',
            summary: 'is required for stdio: set the executable',
          },
        ]
      : [],
};
