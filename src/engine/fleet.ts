import type { FieldPath } from './field-path.js';
import type { MCPServerSchema } from './mcpserver-schema.js';
import { objectMetadata } from './resource.js';
import type { SpecView } from './spec-view.js';

/**
 * The other MCPServers in view beside the object judged: every MCPServer document among
 * `validate`'s inputs, what `audit` listed, or what `serve` keeps from a watch. Rules that look
 * across objects read it; without it (a single object, a watch not synced yet) they do not run,
 * and the verdict says so.
 */
export interface Fleet {
  readonly members: readonly FleetMember[];
  /** Which Secrets exist (their metadata, never their data); undefined when not watched. */
  readonly secrets?: SecretIndex;
}

export interface FleetMember {
  /** Stable within the fleet: a file and document in Git, a uid in a cluster. Findings point back to members by it. */
  readonly id: string;
  readonly object: unknown;
}

export interface SecretIndex {
  has(namespace: string, name: string): boolean;
}

/** Another MCPServer of the same Muster: the same namespace (Muster reads the MCPServers of its own namespace). */
export interface Peer {
  readonly id: string;
  readonly name: string;
  /** `namespace/name`, as kubectl users write it. */
  readonly displayName: string;
  readonly spec: SpecView;
}

/** What a fleet rule is given about the fleet, as seen from the object judged. */
export interface FleetView {
  /** The namespace of the object judged ('' for a manifest without one). */
  readonly namespace: string;
  /** The name of the object judged; undefined for one that has only a generateName. */
  readonly name: string | undefined;
  readonly secrets?: SecretIndex;
  /**
   * The other MCPServers of the namespace whose `keyOf` is `value`. The object's own entry (the
   * same namespace and name: its stored version, on an UPDATE) is never among them, so an UPDATE
   * is judged against the others as they are, not against its old self. Grouped once per fleet,
   * namespace and `key`, so that judging every object of a large repository stays linear.
   */
  peersWhere(key: string, keyOf: (peer: Peer) => string | undefined, value: string): readonly Peer[];
}

/** A field of another object that a finding is about too: a conflict names both sides. */
export interface RelatedField {
  readonly member: string;
  readonly field: FieldPath;
}

interface NamespaceIndex {
  readonly peers: readonly Peer[];
  readonly groups: Map<string, Map<string, Peer[]>>;
}

/** Per fleet and schema: the members by namespace, each viewed once. */
const indexes = new WeakMap<Fleet, { schema: MCPServerSchema; byNamespace: Map<string, NamespaceIndex> }>();

function indexOf(fleet: Fleet, schema: MCPServerSchema): Map<string, NamespaceIndex> {
  const known = indexes.get(fleet);
  if (known?.schema === schema) return known.byNamespace;
  const byNamespace = new Map<string, NamespaceIndex>();
  for (const member of fleet.members) {
    const { name, namespace = '' } = objectMetadata(member.object);
    if (name === undefined) continue;
    let entry = byNamespace.get(namespace);
    if (!entry) byNamespace.set(namespace, (entry = { peers: [], groups: new Map() }));
    (entry.peers as Peer[]).push({ id: member.id, name, displayName: namespace ? `${namespace}/${name}` : name, spec: schema.view(member.object) ?? {} });
  }
  indexes.set(fleet, { schema, byNamespace });
  return byNamespace;
}

/**
 * The fleet as the object judged sees it: the other MCPServers of its namespace. Muster lists
 * the MCPServers of the one namespace it runs for (ListMCPServers in
 * internal/mcpserver/api_adapter.go, giantswarm/muster), so servers in other namespaces never meet.
 */
export function fleetView(fleet: Fleet, object: unknown, schema: MCPServerSchema): FleetView {
  const { name, namespace = '' } = objectMetadata(object);
  const index = indexOf(fleet, schema).get(namespace);
  return {
    namespace,
    name,
    ...(fleet.secrets ? { secrets: fleet.secrets } : {}),
    peersWhere(key, keyOf, value) {
      if (!index) return [];
      let group = index.groups.get(key);
      if (!group) {
        group = new Map();
        for (const peer of index.peers) {
          const groupKey = keyOf(peer);
          if (groupKey === undefined) continue;
          const members = group.get(groupKey);
          if (members) members.push(peer);
          else group.set(groupKey, [peer]);
        }
        index.groups.set(key, group);
      }
      return (group.get(value) ?? []).filter((peer) => peer.name !== name);
    },
  };
}
