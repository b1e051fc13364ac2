import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { affectedPeers, Fleet, MCPServerSchema, RULES, type PeerGrouping } from '../../src/engine/index.js';

const schema = MCPServerSchema.builtIn();
const groupings: PeerGrouping[] = RULES.flatMap((rule) => rule.groupings ?? []);

/** A small world of MCPServers, so that families, prefixes and names meet often. */
const anObject = fc.record({
  name: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  namespace: fc.constantFrom('muster', 'other'),
  family: fc.option(fc.record({ name: fc.constantFrom('clusters', 'tools'), instanceArg: fc.constantFrom('cluster', 'workload') }), { nil: undefined }),
  toolPrefix: fc.option(fc.constantFrom('a', 'b', 'clusters', 'x'), { nil: undefined }),
});

interface Shape {
  readonly name: string;
  readonly namespace: string;
  readonly family: { readonly name: string; readonly instanceArg: string } | undefined;
  readonly toolPrefix: string | undefined;
}

function mcpServer({ name, namespace, family, toolPrefix }: Shape): Record<string, unknown> {
  return {
    apiVersion: 'muster.giantswarm.io/v1alpha1',
    kind: 'MCPServer',
    metadata: { name, namespace },
    spec: { type: 'streamable-http', url: `https://${name}.example.com/mcp`, ...(family ? { family } : {}), ...(toolPrefix ? { toolPrefix } : {}) },
  };
}

/** What every rule sees of the fleet from `object`: each grouping's peers, by name. */
function seenFrom(fleet: Fleet, object: unknown): string[][] {
  const view = fleet.viewFrom(object, schema);
  const spec = schema.view(object) ?? {};
  return groupings.map((grouping) => {
    const value = grouping.of({ name: view.name ?? '', spec });
    return value === undefined ? [] : view.peersWhere(grouping, value).map((peer) => peer.id).sort();
  });
}

describe('Fleet', () => {
  it('changed one object at a time, shows every object the same peers as a fleet built from scratch', () => {
    const change = fc.record({ id: fc.constantFrom('1', '2', '3', '4', '5', '6'), object: fc.option(anObject, { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(change, { maxLength: 30 }), fc.array(anObject, { minLength: 1, maxLength: 3 }), (changes, probes) => {
        const kept = new Fleet();
        const final = new Map<string, unknown>();
        // The first look builds the views and groups that the changes after it must keep up to date.
        for (const probe of probes) seenFrom(kept, mcpServer(probe));
        for (const { id, object } of changes) {
          if (object === undefined) {
            kept.delete(id);
            final.delete(id);
          } else {
            kept.set(id, mcpServer(object));
            final.set(id, mcpServer(object));
          }
        }
        const fresh = new Fleet([...final].map(([id, object]) => ({ id, object })));
        expect(kept.size).toBe(fresh.size);
        for (const probe of probes) expect(seenFrom(kept, mcpServer(probe))).toEqual(seenFrom(fresh, mcpServer(probe)));
      }),
      { numRuns: 300 },
    );
  });

  it('names as affected by a change the servers of its family and its tool name space, in its namespace, and no other', () => {
    const member = (id: string, name: string, family?: string) => ({
      id,
      object: mcpServer({ name, namespace: 'muster', family: family ? { name: family, instanceArg: 'cluster' } : undefined, toolPrefix: undefined }),
    });
    const fleet = new Fleet([
      member('1', 'a', 'clusters'),
      member('2', 'b', 'clusters'),
      member('3', 'c'),
      member('4', 'clusters'),
      { id: '5', object: mcpServer({ name: 'd', namespace: 'other', family: { name: 'clusters', instanceArg: 'cluster' }, toolPrefix: undefined }) },
    ]);
    // A family member: the other members, and the server whose name is the family's tool name space.
    expect([...affectedPeers(fleet, fleet.get('1'))].sort()).toEqual(['2', '4']);
    // A server on its own: nobody shares its family or name space.
    expect([...affectedPeers(fleet, fleet.get('3'))]).toEqual([]);
    // What it was before a change counts as much as what it is: ask for both.
    expect([...affectedPeers(fleet, mcpServer({ name: 'c', namespace: 'muster', family: { name: 'clusters', instanceArg: 'x' }, toolPrefix: undefined }))].sort()).toEqual(['1', '2', '4']);
  });
});
