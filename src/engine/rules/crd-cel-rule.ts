import type { Rule } from '../rule.js';

/**
 * The CRD's CEL rules (`x-kubernetes-validations`) of the CRD in use (the bundled one, `validate
 * --crd`, or one among the inputs), evaluated as the API server evaluates them (src/engine/cel) and
 * reported in its words, so that a newer CRD's new rule is checked in Git without a release of
 * this project. A rule of ours that stands for one of them says more, and speaks instead
 * (Rule.mirrorsCrdRule). At admission the API server has already applied the cluster's own rules.
 */
export const crdCelRule: Rule = {
  id: 'crd-cel-rule',
  description: "The object passes the CEL rules (x-kubernetes-validations) of the MCPServer CRD in use, reported in the API server's words.",
  fix: "Change the object as the CRD rule's message says; the API server would refuse it too.",
  defaults: { manifest: 'deny', admission: 'off' },
  caughtByApiServer: 'crd-cel',
  manifestOnly: true,
  check: ({ schemaIssues }) =>
    schemaIssues.filter((issue) => issue.celRule?.evaluated).map(({ field, message }) => ({ field, message, summary: message })),
};
