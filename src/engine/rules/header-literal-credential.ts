import { mapKey } from '../field-path.js';
import { literalCredential } from '../credentials.js';
import type { Rule } from '../rule.js';
import { headerEntries } from './facts.js';

/**
 * In Git a literal credential is a leaked secret. In the cluster it is what a correct pipeline
 * produces, but anyone who may `get mcpservers` can read it, which is not true of a Secret.
 */
export const headerLiteralCredential: Rule = {
  id: 'header-literal-credential',
  description: 'No header holds a literal credential: credential headers by name, and well-known token formats in any header.',
  fix: 'Commit a placeholder and have the pipeline inject the secret from a Secret store; rotate any token that reached Git.',
  defaults: { manifest: 'deny', admission: 'warn' },
  check: ({ spec }) =>
    headerEntries(spec).flatMap(([name, value]) => {
      const credential = literalCredential(name, value);
      return credential
        ? [
            {
              field: ['spec', 'headers', mapKey(name)],
              message: `holds ${credential} in plain text, readable by anyone who can read this MCPServer: commit a placeholder and inject the secret at deploy time`,
              summary: 'holds a secret in plain text: inject it',
            },
          ]
        : [];
    }),
};
