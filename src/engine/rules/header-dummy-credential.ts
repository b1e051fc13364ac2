import type { Rule } from '../rule.js';
import { credentialFindings, dummyCredentialMessage } from './credential-fields.js';
import { hasHeaders } from './facts.js';

/**
 * `Authorization: Bearer test-token` is what documentation and mock servers write (upstream
 * Muster's own docs/how-to/mcp-server-management.md and its e2e scenarios): no secret leaks, so
 * it is never denied in Git; but no real server takes it, which is worth a word in both contexts.
 */
export const headerDummyCredential: Rule = {
  id: 'header-dummy-credential',
  description: 'No credential header holds a dummy value (a word such as test-token), which no real server accepts.',
  fix: 'Commit a placeholder such as ${TOKEN} for the pipeline to substitute, or inject the real credential.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: hasHeaders,
  check: ({ spec }) =>
    credentialFindings(spec, 'headers', 'dummy', dummyCredentialMessage('server')),
};
