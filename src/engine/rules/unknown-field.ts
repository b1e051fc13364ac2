import type { Rule } from '../rule.js';

/**
 * The API server prunes unknown fields silently, so a typo such as `forwardtoken: true` in Git
 * would vanish without a word. Only a warning at admission: a newer CRD may add fields before
 * this webhook learns them, and denying those would block every upgrade.
 */
export const unknownField: Rule = {
  id: 'unknown-field',
  description: 'Every field under spec is one the CRD knows; unknown ones are dropped by the API server without a word.',
  fix: 'Fix the spelling or the nesting of the field (the message suggests the likely one), or remove it.',
  defaults: { manifest: 'deny', admission: 'warn' },
  check: ({ schemaIssues }) => schemaIssues.filter((issue) => issue.unknownField),
};
