import type { Rule } from '../rule.js';
import { credentialFindings } from './credential-fields.js';
import { hasEnv } from './facts.js';

/**
 * Muster expands nothing in spec.env: it hands `KEY=value` to the process as written
 * (NewStdioClientWithEnv, internal/mcpserver/client_stdio.go), so at admission a `${VAR}` left in
 * a value reaches the process unexpanded, and an empty token is an injection that failed.
 */
export const envUnresolvedPlaceholder: Rule = {
  id: 'env-unresolved-placeholder',
  description: 'No spec.env value still holds a placeholder (${VAR}, <token>, REPLACE_ME, ...) or an empty credential at admission.',
  fix: 'Make the deployment pipeline substitute the real value before it applies the object; Muster passes env to the process verbatim.',
  defaults: { manifest: 'audit', admission: 'deny' },
  concerns: hasEnv,
  check: ({ spec }) =>
    credentialFindings(spec, 'env', 'placeholder', ({ kind }) => ({
      message: `still holds ${kind}, and Muster passes env to the process verbatim, expanding nothing: make the pipeline substitute the real value before applying`,
      summary: 'holds a placeholder: inject the value',
    })),
};
