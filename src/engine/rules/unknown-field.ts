import type { Rule } from '../rule.js';

/**
 * A typo such as `forwardtoken: true` never takes effect: kubectl's server-side field validation
 * (Strict, its default) refuses the object, and with `--validate=false` the API server prunes the
 * field without a word. In Git that is worth a denial. At admission the field has already passed
 * the API server's own checks, so the cluster's CRD knows it and ours does not: drift, reported to
 * operators, never the user's mistake (see Rule.manifestOnly).
 */
export const unknownField: Rule = {
  id: 'unknown-field',
  description: 'Every field under spec is one the CRD knows; unknown ones are refused or dropped by the API server.',
  fix: 'Fix the spelling or the nesting of the field (the message suggests the likely one), or remove it.',
  defaults: { manifest: 'deny', admission: 'off' },
  caughtByApiServer: 'crd-schema',
  manifestOnly: true,
  check: ({ schemaIssues }) =>
    schemaIssues.filter((issue) => issue.unknownField).map(({ field, message, fix }) => ({ field, message, summary: message, ...(fix ? { fix } : {}) })),
};
