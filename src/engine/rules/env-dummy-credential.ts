import type { Rule } from '../rule.js';
import { credentialFindings, dummyCredentialMessage } from './credential-fields.js';
import { hasEnv } from './facts.js';

/** As header-dummy-credential, for the tokens a stdio server reads from its environment. */
export const envDummyCredential: Rule = {
  id: 'env-dummy-credential',
  description: 'No spec.env credential (*_TOKEN, *_API_KEY, *_SECRET, *PASSWORD*) holds a dummy value, which no real service accepts.',
  fix: 'Commit a placeholder such as ${TOKEN} for the pipeline to substitute, or inject the real credential.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: hasEnv,
  check: ({ spec }) =>
    credentialFindings(spec, 'env', 'dummy', dummyCredentialMessage('service')),
};
