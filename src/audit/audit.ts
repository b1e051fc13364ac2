import { objectMetadata, validate, type Fleet, type NamespaceInfo, type Policy, type SecretIndex, type ValidateOptions, type Verdict } from '../engine/index.js';
import { objectIdentity, objectResult, summarize, type Report } from '../report/results.js';
import type { Labels } from './cluster.js';

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
  return { members: objects.map((object) => ({ id: storedId(object), object })), ...(secrets ? { secrets } : {}) };
}

/** The Secrets that exist, as the rule referenced-secret looks them up, from their metadata. */
export function secretIndex(secrets: readonly unknown[]): SecretIndex {
  return secretIndexOf(new Set(secrets.map(secretKey)));
}

/** A Secret's key in the set behind a SecretIndex: `namespace/name`, from its metadata. */
export function secretKey(secret: unknown): string {
  const { namespace, name } = objectMetadata(secret);
  return keyOf(String(namespace), String(name));
}

/** The index over a set of secretKey()s, which may go on changing (a watch keeps it). */
export function secretIndexOf(keys: ReadonlySet<string>): SecretIndex {
  return { has: (namespace, name) => keys.has(keyOf(namespace, name)) };
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

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
  const byId = new Map(fleet.members.map((member) => [member.id, member.object]));
  const memberOf = (id: string) => (byId.has(id) ? { identity: objectIdentity(byId.get(id)) } : undefined);
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
