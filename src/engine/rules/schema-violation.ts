import type { Rule } from '../rule.js';

export const schemaViolation: Rule = {
  id: 'schema-violation',
  description: 'The object matches the MCPServer schema: required fields, types, enums, patterns and limits of the CRD.',
  fix: 'Correct the field as the message says; the CRD would reject it too.',
  defaults: { manifest: 'deny', admission: 'deny' },
  generic: true,
  check: ({ schemaIssues }) => schemaIssues.filter((issue) => !issue.unknownField),
};
