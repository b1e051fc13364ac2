import type { Rule } from '../rule.js';
import { credentialFindings, literalCredentialMessage } from './credential-fields.js';
import { hasEnv } from './facts.js';

/**
 * npx-launched servers take their tokens from the environment (GITHUB_PERSONAL_ACCESS_TOKEN,
 * OPENAI_API_KEY, ...), and Muster passes spec.env to the process as written
 * (internal/mcpserver/client_stdio.go): a token there is as leaked as one in a header.
 */
export const envLiteralCredential: Rule = {
  id: 'env-literal-credential',
  description: 'No spec.env value holds a real credential: a well-known token format in any variable, or a machine-made value in one named *_TOKEN, *_API_KEY, *_SECRET, *PASSWORD*.',
  fix: 'Commit a placeholder and have the pipeline inject the secret from a Secret store; rotate any token that reached Git.',
  defaults: { manifest: 'deny', admission: 'warn' },
  concerns: hasEnv,
  check: ({ spec }) =>
    credentialFindings(spec, 'env', 'secret', literalCredentialMessage),
};
