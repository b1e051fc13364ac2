import type { Rule } from '../rule.js';

export const schemaViolation: Rule = {
  id: 'schema-violation',
  description: 'The object matches the MCPServer schema: required fields, types, enums, patterns and limits of the CRD.',
  fix: 'Correct the field as the message says; the API server would refuse it too.',
  defaults: { manifest: 'deny', admission: 'off' },
  caughtByApiServer: 'crd-schema',
  manifestOnly: true,
  generic: true,
  check: ({ schemaIssues }) =>
    schemaIssues
      .filter((issue) => !issue.unknownField && !issue.celRule)
      // A wrong type is the whole story of its field: the rules that read the field stay silent.
      .map(({ field, message, wrongType }) => ({ field, message, summary: message, ...(wrongType ? { generic: false } : {}) })),
};
