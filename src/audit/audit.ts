import { validate, type NamespaceInfo, type Policy, type ValidateOptions, type Verdict } from '../engine/index.js';
import { objectIdentity, objectResult, summarize, type Report } from '../report/results.js';
import type { Labels } from './cluster.js';

/** The context an object already in the cluster is judged in: as if it were written now. */
export const STORED_OBJECT_CONTEXT = 'admission';

/**
 * Judges one object already in the cluster as the webhook would judge it if it were written now:
 * the `admission` context, with the namespace's labels when they are known (else its name alone).
 */
export function judgeStoredObject(
  object: unknown,
  policy: Policy,
  namespace: NamespaceInfo | undefined,
  onRuleError?: ValidateOptions['onRuleError'],
): Verdict {
  return validate(object, { context: STORED_OBJECT_CONTEXT, policy, namespace, onRuleError });
}

/**
 * Judges objects already in the cluster, in the same result contract as `validate --output json`.
 * `namespaceLabels` lends each namespace's labels to the policy's label selectors; without an
 * entry a namespace is judged by its name alone.
 */
export function auditObjects(objects: readonly unknown[], policy: Policy, namespaceLabels: ReadonlyMap<string, Labels> = new Map()): Report {
  const results = objects.map((object) => {
    const identity = objectIdentity(object);
    const labels = identity.namespace === null ? undefined : namespaceLabels.get(identity.namespace);
    const namespace = identity.namespace !== null && labels ? { name: identity.namespace, labels } : undefined;
    return objectResult(identity, judgeStoredObject(object, policy, namespace));
  });
  return { results, errors: [], summary: summarize(results, { errors: 0 }) };
}

/** Namespace labels matter only to a policy with a label selector; otherwise they are not fetched. */
export function policyNeedsNamespaceLabels(policy: Policy): boolean {
  return policy.document.namespaces?.some((entry) => entry.selector !== undefined) ?? false;
}
