import { validate, type Fleet, type NamespaceInfo, type Policy, type SecretIndex, type ValidateOptions, type Verdict } from '../engine/index.js';
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
  const names = new Set(
    secrets.map((secret) => {
      const metadata = (secret as { metadata?: { name?: unknown; namespace?: unknown } } | null | undefined)?.metadata;
      return `${String(metadata?.namespace)}/${String(metadata?.name)}`;
    }),
  );
  return { has: (namespace, name) => names.has(`${namespace}/${name}`) };
}

/** True when an object names a Secret for its token exchange: only then are Secrets worth listing. */
export function referencesSecrets(objects: readonly unknown[]): boolean {
  return objects.some((object) => {
    const exchange = (object as { spec?: { auth?: { tokenExchange?: { enabled?: unknown; clientCredentialsSecretRef?: unknown } } } } | null)?.spec?.auth?.tokenExchange;
    return exchange?.enabled === true && exchange.clientCredentialsSecretRef !== undefined;
  });
}

function storedId(object: unknown): string {
  const metadata = (object as { metadata?: { uid?: unknown; name?: unknown; namespace?: unknown } } | null | undefined)?.metadata;
  return typeof metadata?.uid === 'string' ? metadata.uid : `${String(metadata?.namespace)}/${String(metadata?.name)}`;
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
