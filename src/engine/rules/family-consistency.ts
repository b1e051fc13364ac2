import type { PeerGrouping } from '../fleet.js';
import type { Rule } from '../rule.js';
import { byDisplayName, someNames } from '../words.js';

const FIELD = ['spec', 'family', 'instanceArg'] as const;

/** The members of a family: the servers that declare its name. */
const FAMILY: PeerGrouping = { key: 'family', of: (peer) => peer.spec.family?.name };

/**
 * Muster groups the tools of a family under one name with an instance argument; when members
 * declare different instanceArgs it falls back to per-server prefixes for the whole family and
 * logs a warning (applyServerRegistrationLocked and familyFallbackStatusLocked in
 * internal/aggregator/registry.go, giantswarm/muster), so every tool name of every member
 * changes under the workflows and agents that call them. No CEL rule can see other objects.
 */
export const familyConsistency: Rule = {
  id: 'family-consistency',
  description: 'MCPServers that declare the same spec.family.name agree on spec.family.instanceArg.',
  fix: 'Use the instanceArg the rest of the family uses, or give this server a family of its own.',
  defaults: { manifest: 'deny', admission: 'deny' },
  needs: 'fleet',
  groupings: [FAMILY],
  concerns: (spec) => Boolean(spec.family?.name),
  check: ({ spec, fleet }) => {
    const family = spec.family;
    if (!fleet || !family?.name || !family.instanceArg) return [];
    const disagreeing = fleet.peersWhere(FAMILY, family.name).flatMap((peer) => {
      const theirs = peer.spec.family?.instanceArg;
      return theirs && theirs !== family.instanceArg ? [{ peer, instanceArg: theirs }] : [];
    });
    if (disagreeing.length === 0) return [];
    disagreeing.sort((a, b) => byDisplayName(a.peer, b.peer));
    const theirs = disagreeing.map(({ peer, instanceArg }) => `${peer.displayName} (${instanceArg})`);
    return [
      {
        field: FIELD,
        message: `is ${family.instanceArg}, but family ${family.name} also has ${someNames(theirs)}: Muster then gives up the family's shared tool names and prefixes every member's tools per server, so the tool names of the whole family change under whatever calls them: use one instanceArg across the family`,
        summary: 'differs within its family: use one for all',
        related: disagreeing.map(({ peer }) => ({ member: peer.id, field: FIELD })),
      },
    ];
  },
};
