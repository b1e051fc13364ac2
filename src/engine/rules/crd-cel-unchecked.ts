import type { Rule } from '../rule.js';

/**
 * A CEL rule of the CRD that this checker could not evaluate: it calls a function of the
 * Kubernetes CEL library that src/engine/cel/kubernetes-library.ts does not provide, or uses syntax
 * it does not parse; or the object breaks the schema so that, like the API server, it evaluated no
 * CEL rule. Said, with the rule's text, rather than passed in silence.
 */
export const crdCelUnchecked: Rule = {
  id: 'crd-cel-unchecked',
  description: 'Names the CEL rules of the MCPServer CRD that could not be evaluated offline; the API server still checks them.',
  fix: 'Check the object against the rule by hand, or apply it with kubectl apply --dry-run=server; fix the schema findings first when they kept the rules from running.',
  defaults: { manifest: 'warn', admission: 'off' },
  caughtByApiServer: 'crd-cel',
  manifestOnly: true,
  check: ({ schemaIssues }) =>
    schemaIssues.filter((issue) => issue.celRule && !issue.celRule.evaluated).map(({ field, message }) => ({ field, message, summary: message })),
};
