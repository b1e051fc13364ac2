import type { FieldPath } from './field-path.js';
import type { MCPServerSchema } from './mcpserver-schema.js';
import { objectMetadata } from './resource.js';
import type { SpecView } from './spec-view.js';

export interface FleetMember {
  /** Stable within the fleet: a file and document in Git, a uid in a cluster. Findings point back to members by it. */
  readonly id: string;
  readonly object: unknown;
}

export interface SecretIndex {
  has(namespace: string, name: string): boolean;
}

/** The Secrets that exist, as the rule referenced-secret looks them up, from their metadata. */
export function secretIndex(secrets: Iterable<unknown>): SecretIndex {
  return secretIndexOf(new Set([...secrets].map(secretKey)));
}

/** A Secret's key in the set behind a SecretIndex: `namespace/name`, from its metadata. */
export function secretKey(secret: unknown): string {
  const { namespace, name } = objectMetadata(secret);
  return `${String(namespace)}/${String(name)}`;
}

/** The index over a set of secretKey()s, which may go on changing (a watch keeps it). */
export function secretIndexOf(keys: ReadonlySet<string>): SecretIndex {
  return { has: (namespace, name) => keys.has(`${namespace}/${name}`) };
}

/** Another MCPServer of the same Muster: the same namespace (Muster reads the MCPServers of its own namespace). */
export interface Peer {
  readonly id: string;
  readonly name: string;
  /** `namespace/name`, as kubectl users write it. */
  readonly displayName: string;
  readonly spec: SpecView;
}

/**
 * How a fleet rule groups MCPServers: by a value read from each (a family's name, a tool name
 * space). Declared once per rule (Rule.groupings), so that a change to one object tells which
 * others it can affect: those that share one of its groups.
 */
export interface PeerGrouping {
  /** Unique among the rules' groupings. */
  readonly key: string;
  /** The group a peer belongs to, or undefined for none. */
  of(peer: Pick<Peer, 'name' | 'spec'>): string | undefined;
}

/** What a fleet rule is given about the fleet, as seen from the object judged. */
export interface FleetView {
  /** The namespace of the object judged ('' for a manifest without one). */
  readonly namespace: string;
  /** The name of the object judged; undefined for one that has only a generateName. */
  readonly name: string | undefined;
  readonly secrets?: SecretIndex;
  /**
   * The other MCPServers of the namespace in the same `grouping` group as `value`. The object's
   * own entry (the same namespace and name: its stored version, on an UPDATE) is never among
   * them, so an UPDATE is judged against the others as they are, not against its old self.
   */
  peersWhere(grouping: PeerGrouping, value: string): readonly Peer[];
}

/** A field of another object that a finding is about too: a conflict names both sides. */
export interface RelatedField {
  readonly member: string;
  readonly field: FieldPath;
}

/** One namespace's members, viewed through one schema, with the groups the rules asked for. */
interface NamespaceIndex {
  readonly schema: MCPServerSchema;
  readonly peers: Map<string, Peer>;
  /** By grouping key, then group value: the peers in that group, by id. */
  readonly groups: Map<string, { readonly grouping: PeerGrouping; readonly byValue: Map<string, Map<string, Peer>> }>;
}

/**
 * The MCPServers in view beside the object judged: every MCPServer document among `validate`'s
 * inputs, what `audit` listed, or what `serve` keeps from a watch. Rules that look across objects
 * read it; without it (a single object, a watch not synced yet) they do not run, and the verdict
 * says so.
 *
 * A watch changes it one object at a time, thousands of times, while admission reads it between
 * changes: so a change costs the object and its groups, never the whole fleet or namespace. Each
 * namespace is viewed (specs projected, groups built) once, on first use, and kept up to date.
 */
export class Fleet {
  private readonly objects = new Map<string, { readonly object: unknown; readonly namespace: string; readonly name: string | undefined }>();
  private readonly indexes = new Map<string, NamespaceIndex>();
  private readonly idsByNamespace = new Map<string, Set<string>>();

  /** Which Secrets exist (their metadata, never their data); undefined when not known. */
  secrets: SecretIndex | undefined;

  constructor(members: Iterable<FleetMember> = [], secrets?: SecretIndex) {
    for (const { id, object } of members) this.set(id, object);
    this.secrets = secrets;
  }

  get size(): number {
    return this.objects.size;
  }

  get(id: string): unknown {
    return this.objects.get(id)?.object;
  }

  ids(): IterableIterator<string> {
    return this.objects.keys();
  }

  /** Adds an object, or replaces the one of the same id. */
  set(id: string, object: unknown): void {
    this.delete(id);
    const { name, namespace = '' } = objectMetadata(object);
    this.objects.set(id, { object, namespace, name });
    let ids = this.idsByNamespace.get(namespace);
    if (!ids) this.idsByNamespace.set(namespace, (ids = new Set()));
    ids.add(id);
    const index = this.indexes.get(namespace);
    if (index && name !== undefined) addPeer(index, peerOf(id, name, namespace, object, index.schema));
  }

  delete(id: string): void {
    const entry = this.objects.get(id);
    if (!entry) return;
    this.objects.delete(id);
    const ids = this.idsByNamespace.get(entry.namespace);
    ids?.delete(id);
    if (ids?.size === 0) this.idsByNamespace.delete(entry.namespace);
    const index = this.indexes.get(entry.namespace);
    const peer = index?.peers.get(id);
    if (index && peer) removePeer(index, peer);
  }

  /**
   * The ids of the members that share a group with `object` under any of `groupings`, in its
   * namespace: those whose verdict a change to `object` can change. Its own id is not among them.
   */
  sharingAGroupWith(object: unknown, groupings: readonly PeerGrouping[], schema: MCPServerSchema): Set<string> {
    const { name, namespace = '' } = objectMetadata(object);
    const found = new Set<string>();
    if (name === undefined) return found;
    const index = this.index(namespace, schema);
    const spec = schema.view(object) ?? {};
    for (const grouping of groupings) {
      const value = grouping.of({ name, spec });
      if (value === undefined) continue;
      for (const peer of groupOf(index, grouping).get(value)?.values() ?? []) if (peer.name !== name) found.add(peer.id);
    }
    return found;
  }

  /** The fleet as the object judged sees it. */
  viewFrom(object: unknown, schema: MCPServerSchema): FleetView {
    const { name, namespace = '' } = objectMetadata(object);
    return {
      namespace,
      name,
      ...(this.secrets ? { secrets: this.secrets } : {}),
      peersWhere: (grouping, value) => {
        const group = groupOf(this.index(namespace, schema), grouping).get(value);
        return group ? [...group.values()].filter((peer) => peer.name !== name) : [];
      },
    };
  }

  /**
   * The namespace's members, viewed through `schema`. Muster lists the MCPServers of the one
   * namespace it runs for (ListMCPServers in internal/mcpserver/api_adapter.go, giantswarm/muster),
   * so servers in other namespaces never meet.
   */
  private index(namespace: string, schema: MCPServerSchema): NamespaceIndex {
    const known = this.indexes.get(namespace);
    if (known?.schema === schema) return known;
    const index: NamespaceIndex = { schema, peers: new Map(), groups: new Map() };
    for (const id of this.idsByNamespace.get(namespace) ?? []) {
      const entry = this.objects.get(id);
      if (entry?.name !== undefined) index.peers.set(id, peerOf(id, entry.name, namespace, entry.object, schema));
    }
    this.indexes.set(namespace, index);
    return index;
  }
}

function peerOf(id: string, name: string, namespace: string, object: unknown, schema: MCPServerSchema): Peer {
  return { id, name, displayName: namespace ? `${namespace}/${name}` : name, spec: schema.view(object) ?? {} };
}

/** The grouping's groups in the namespace, built on first use and kept up to date by addPeer and removePeer. */
function groupOf(index: NamespaceIndex, grouping: PeerGrouping): Map<string, Map<string, Peer>> {
  let entry = index.groups.get(grouping.key);
  if (!entry) {
    entry = { grouping, byValue: new Map() };
    index.groups.set(grouping.key, entry);
    for (const peer of index.peers.values()) join(entry.byValue, grouping.of(peer), peer);
  }
  return entry.byValue;
}

function addPeer(index: NamespaceIndex, peer: Peer): void {
  index.peers.set(peer.id, peer);
  for (const { grouping, byValue } of index.groups.values()) join(byValue, grouping.of(peer), peer);
}

function removePeer(index: NamespaceIndex, peer: Peer): void {
  index.peers.delete(peer.id);
  for (const { grouping, byValue } of index.groups.values()) {
    const value = grouping.of(peer);
    const group = value === undefined ? undefined : byValue.get(value);
    group?.delete(peer.id);
    if (value !== undefined && group?.size === 0) byValue.delete(value);
  }
}

function join(byValue: Map<string, Map<string, Peer>>, value: string | undefined, peer: Peer): void {
  if (value === undefined) return;
  let group = byValue.get(value);
  if (!group) byValue.set(value, (group = new Map()));
  group.set(peer.id, peer);
}
