import { validate, type Policy } from '../engine/index.js';
import { objectIdentity, objectResult, summarize, type Report } from '../cli/results.js';
import type { Labels } from './cluster.js';

/**
 * Judges objects already in the cluster as the webhook would judge them if they were written
 * now (the `admission` context), in the same result contract as `validate --output json`.
 * `namespaceLabels` lends each namespace's labels to the policy's label selectors; without an
 * entry a namespace is judged by its name alone.
 */
export function auditObjects(objects: readonly unknown[], policy: Policy, namespaceLabels: ReadonlyMap<string, Labels> = new Map()): Report {
  const results = objects.map((object) => {
    const identity = objectIdentity(object);
    const labels = identity.namespace === null ? undefined : namespaceLabels.get(identity.namespace);
    const withLabels = identity.namespace !== null && labels ? { namespace: { name: identity.namespace, labels } } : {};
    return objectResult(identity, validate(object, { context: 'admission', policy, ...withLabels }));
  });
  return { results, errors: [], summary: summarize(results, { errors: 0 }) };
}

/** Namespace labels matter only to a policy with a label selector; otherwise they are not fetched. */
export function policyNeedsNamespaceLabels(policy: Policy): boolean {
  return policy.document.namespaces?.some((entry) => entry.selector !== undefined) ?? false;
}
