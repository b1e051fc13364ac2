import { Fleet, objectMetadata, validate, type NamespaceInfo, type Policy, type SecretIndex, type ValidateOptions, type Verdict } from '../engine/index.js';
import { objectIdentity, objectResult, summarize, type Report } from '../report/results.js';
import type { Labels } from '../cluster/connection.js';

/** The context an object already in the cluster is judged in: as if it were written now. */
export const STORED_OBJECT_CONTEXT = 'admission';

/**
 * Judges one object already in the cluster as the webhook would judge it if it were written now:
 * the `admission` context, with the namespace's labels when they are known (else its name alone),
 * and the other MCPServers in view for the rules across objects.
 */
export function judgeStoredObject(
  object: unknown,
  policy: Policy,
  namespace: NamespaceInfo | undefined,
  fleet: Fleet | undefined,
  onRuleError?: ValidateOptions['onRuleError'],
): Verdict {
  return validate(object, { context: STORED_OBJECT_CONTEXT, policy, namespace, fleet, onRuleError });
}

/** The stored objects as a fleet: each known by its uid, else by its namespace and name. */
export function storedFleet(objects: readonly unknown[], secrets?: SecretIndex): Fleet {
  return new Fleet(
    objects.map((object) => ({ id: storedId(object), object })),
    secrets,
  );
}

function storedId(object: unknown): string {
  const { uid, namespace, name } = objectMetadata(object);
  return uid ?? `${String(namespace)}/${String(name)}`;
}

/**
 * Judges objects already in the cluster, in the same result contract as `validate --output json`.
 * `namespaceLabels` lends each namespace's labels to the policy's label selectors; without an
 * entry a namespace is judged by its name alone.
 */
export function auditObjects(objects: readonly unknown[], policy: Policy, namespaceLabels: ReadonlyMap<string, Labels> = new Map(), secrets?: SecretIndex): Report {
  // What was listed is the fleet: a conflict between two stored objects is reported on both.
  const fleet = storedFleet(objects, secrets);
  const memberOf = (id: string) => {
    const member = fleet.get(id);
    return member === undefined ? undefined : { identity: objectIdentity(member) };
  };
  const unchecked: string[] = [];
  const results = objects.map((object) => {
    const identity = objectIdentity(object);
    const labels = identity.namespace === null ? undefined : namespaceLabels.get(identity.namespace);
    const namespace = identity.namespace !== null && labels ? { name: identity.namespace, labels } : undefined;
    const verdict = judgeStoredObject(object, policy, namespace, fleet);
    unchecked.push(...verdict.unchecked);
    return objectResult(identity, verdict, { memberOf });
  });
  return { results, errors: [], summary: summarize(results, { errors: 0, unchecked }) };
}

/** Namespace labels matter only to a policy with a label selector; otherwise they are not fetched. */
export function policyNeedsNamespaceLabels(policy: Policy): boolean {
  return policy.document.namespaces?.some((entry) => entry.selector !== undefined) ?? false;
}
