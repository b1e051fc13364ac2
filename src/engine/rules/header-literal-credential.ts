import type { Rule } from '../rule.js';
import { credentialFindings, literalCredentialMessage } from './credential-fields.js';
import { hasHeaders } from './facts.js';

/**
 * In Git a literal credential is a leaked secret. In the cluster it is what a correct pipeline
 * produces, but anyone who may `get mcpservers` can read it, which is not true of a Secret.
 */
export const headerLiteralCredential: Rule = {
  id: 'header-literal-credential',
  description: 'No header holds a real credential: a well-known token format in any header, or a machine-made value in a credential header.',
  fix: 'Commit a placeholder and have the pipeline inject the secret from a Secret store; rotate any token that reached Git.',
  defaults: { manifest: 'deny', admission: 'warn' },
  concerns: hasHeaders,
  check: ({ spec }) =>
    credentialFindings(spec, 'headers', 'secret', literalCredentialMessage),
};
