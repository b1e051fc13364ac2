import type { Rule } from '../rule.js';
import { isRemote } from './facts.js';

export const remoteUrlRequired: Rule = {
  id: 'remote-url-required',
  description: 'A streamable-http or sse server has spec.url.',
  fix: "Set spec.url to the server's endpoint, e.g. https://mcp.example.com/mcp.",
  defaults: { manifest: 'deny', admission: 'deny' },
  caughtByApiServer: 'crd-cel',
  // Kept beside the CRD's rule: it names the field to fix and says how, where the CRD's message names neither.
  mirrorsCrdRule: "self.spec.type == 'stdio' || has(self.spec.url)",
  concerns: isRemote,
  check: ({ spec }) =>
    isRemote(spec) && !spec.url
      ? [
          {
            field: ['spec', 'url'],
            message: `is required when spec.type is ${spec.type}: set it to the server's endpoint, e.g. https://mcp.example.com/mcp`,
            summary: "is required for a remote server: set the endpoint",
          },
        ]
      : [],
};
