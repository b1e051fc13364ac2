import { describe, expect, it } from 'vitest';
import { fixture } from './fake-api-server.js';
import { alreadyExists, conflict, notFound, tooOldResourceVersion } from './fake-cluster.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };
const EVENTS = { group: '', version: 'v1', plural: 'events', kind: 'Event' };

/** The fake builds its answers; these hold them to the shapes recorded from real API servers (fixtures/README.md). */
describe('the fake API server speaks the recorded shapes', () => {
  it('answers NotFound, Conflict and AlreadyExists as kube-apiserver does', () => {
    expect(notFound(LEASES, 'mcpserver-webhook-audit')).toEqual({ status: 404, body: fixture('status-404-lease-not-found') });
    expect(conflict(LEASES, 'mcpserver-webhook-audit')).toEqual({ status: 409, body: fixture('status-409-lease-conflict') });
    expect(alreadyExists(EVENTS, 'stdio-without-command.5c1d3e0a9b7f2e64')).toEqual({ status: 409, body: fixture('status-409-event-already-exists') });
  });

  it('ends an expired watch with the ERROR event of the watch cache', () => {
    expect({ type: 'ERROR', object: tooOldResourceVersion(47990, 48100) }).toEqual(fixture('watch-event-error-410'));
  });
});
