import type { Peer, PeerGrouping } from '../fleet.js';
import type { FieldPath } from '../field-path.js';
import type { Rule } from '../rule.js';
import type { SpecView } from '../spec-view.js';
import { byDisplayName, someNames } from '../words.js';

/**
 * The name space a server's tools take in Muster: `{musterPrefix}_{prefix}_{tool}`, the prefix
 * being spec.toolPrefix or else the server's name (buildExposedNameLocked), or the family's name
 * for a family member (familyExposedName), all in internal/aggregator/registry.go. The
 * musterPrefix is Muster's own setting, `x` unless configured (NewServerRegistry, same file;
 * MusterPrefix in internal/config/types.go): the names are given as a default Muster exposes them.
 */
const DEFAULT_MUSTER_PREFIX = 'x';

interface ToolNamespace {
  readonly value: string;
  readonly field: FieldPath;
  /** Family members share their family's name space on purpose. */
  readonly family: boolean;
}

function toolNamespace(spec: SpecView, name: string | undefined): ToolNamespace | undefined {
  if (spec.family?.name) return { value: spec.family.name, field: ['spec', 'family', 'name'], family: true };
  const value = spec.toolPrefix ?? name;
  return value ? { value, field: ['spec', 'toolPrefix'], family: false } : undefined;
}

/** The servers whose tools share a name space. */
const TOOL_NAMESPACE: PeerGrouping = { key: 'tool-namespace', of: (peer) => toolNamespace(peer.spec, peer.name)?.value };

function describe(own: ToolNamespace, spec: SpecView): string {
  if (own.family) return `is ${own.value}, which names this family's tools`;
  return spec.toolPrefix ? `is ${own.value}` : `is not set, so this server's tools take its name, ${own.value}`;
}

/**
 * Two servers whose tools share a name space collide on every tool name they both have: Muster's
 * registry keeps one mapping per exposed name, the last one written (ExposedToolName), and a
 * family's grouped name wins over a server's own (ResolveToolName), so calls meant for one server
 * reach the other, or none. Muster does not resolve this; it only happens when the tools are listed.
 */
export const toolPrefixCollision: Rule = {
  id: 'tool-prefix-collision',
  description: "No two servers' tools share a name space in Muster (toolPrefix, else the server's name, or a family's name), where same-named tools would collide.",
  fix: 'Give the server a spec.toolPrefix that no other server of its namespace uses as its prefix, name or family.',
  defaults: { manifest: 'deny', admission: 'deny' },
  needs: 'fleet',
  groupings: [TOOL_NAMESPACE],
  // No `concerns`: every server's tools take a name space, its name's when nothing else names one.
  check: ({ spec, fleet }) => {
    const own = fleet && toolNamespace(spec, fleet.name);
    if (!fleet || !own) return [];
    const colliding: { peer: Peer; theirs: ToolNamespace }[] = fleet
      .peersWhere(TOOL_NAMESPACE, own.value)
      .flatMap((peer) => {
        const theirs = toolNamespace(peer.spec, peer.name);
        // Family members share their family's name space on purpose.
        return theirs && !(theirs.family && own.family) ? [{ peer, theirs }] : [];
      });
    if (colliding.length === 0) return [];
    colliding.sort((a, b) => byDisplayName(a.peer, b.peer));
    const others = colliding.map(({ peer, theirs }) => `${peer.displayName} (its ${theirs.family ? 'family' : peer.spec.toolPrefix ? 'toolPrefix' : 'name'})`);
    return [
      {
        field: own.field,
        message: `${describe(own, spec)}, like ${someNames(others)}: Muster exposes the tools of each as ${DEFAULT_MUSTER_PREFIX}_${own.value}_<tool>, so a tool name they share reaches only one of them: give each server a toolPrefix of its own`,
        summary: 'is shared with another server: make it unique',
        related: colliding.map(({ peer, theirs }) => ({ member: peer.id, field: theirs.field })),
      },
    ];
  },
};
