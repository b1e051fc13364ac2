import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RATCHETED_MARK } from '../../src/admission/warnings.js';
import { readExample } from '../fixtures.js';
import type { ChildServer } from '../server/child-server.js';
import { adminClients, createNamespace, createObject, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { expectAnswer, expectedAnswer } from './expected.js';
import { request, type KubeAnswer } from './kube-http.js';
import { temporaryFolder } from './processes.js';
import { decisions, registerWebhook, startWebhook, untilWebhookCalled, webhookCa } from './webhook.js';

/**
 * An object written before the webhook was installed, which the webhook would refuse now
 * (examples/vendor-tools.yaml still holds its `<token>` placeholder): the writes its owners and
 * controllers go on making to it (labels, finalizers, deletion) must not be refused for a
 * problem the object already had. On UPDATE a finding the old object already had, same rule and
 * field, is a warning, not a denial (ratcheting, as the API server ratchets its own validation).
 */

const NAMESPACE = 'muster';
const FINALIZER = 'muster.giantswarm.io/cleanup';

let plane: ControlPlane;
let webhook: ChildServer;
const webhookFolder = temporaryFolder('webhook');

/** vendor-tools, as the example has it; and two copies that carry a finalizer from the start. */
const example = readExample('vendor-tools.yaml');
const withFinalizer = (name: string): Record<string, unknown> => ({ ...example, metadata: { name, namespace: NAMESPACE, finalizers: [FINALIZER] } });

beforeAll(async () => {
  plane = await startControlPlane();
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await createNamespace(clients, NAMESPACE);
  // Before the webhook: nothing stops them.
  for (const object of [example, withFinalizer('vendor-tools-held'), withFinalizer('vendor-tools-finalized')]) {
    await createObject(plane, mcpServerPath(NAMESPACE), object);
  }
  webhook = await startWebhook(webhookFolder.path);
  await registerWebhook(clients, webhook.port, webhookCa(webhookFolder.path));
  await untilWebhookCalled(plane, webhook, NAMESPACE);
});

afterAll(async () => {
  await webhook?.stop();
  await plane?.stop();
  webhookFolder.remove();
});

async function stored(name: string): Promise<Record<string, any>> {
  const answer = await request(endpoint(plane), 'GET', mcpServerPath(NAMESPACE, name));
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

/**
 * Sends a patch and checks the answer against what the project's code says of this UPDATE: the
 * object before (as stored) and after (as the API server stored it, or, if refused, as the patch
 * would have made it).
 */
async function patch(name: string, contentType: string, body: unknown, after: (before: Record<string, any>) => Record<string, any>): Promise<KubeAnswer> {
  const before = await stored(name);
  const answer = await request(endpoint(plane), 'PATCH', mcpServerPath(NAMESPACE, name), { body, contentType, query: { fieldValidation: 'Strict' } });
  const object = answer.status === 200 ? answer.body : after(before);
  expectAnswer(answer, expectedAnswer({ operation: 'UPDATE', object, oldObject: before }), `${contentType} ${JSON.stringify(body)}`);
  return answer;
}

const mergePatch = 'application/merge-patch+json';
const jsonPatch = 'application/json-patch+json';
function withoutFinalizers(object: Record<string, any>): Record<string, any> {
  const { finalizers: _removed, ...metadata } = object.metadata;
  return { ...object, metadata };
}
const withMetadata = (object: Record<string, any>, metadata: Record<string, unknown>): Record<string, any> => ({ ...object, metadata: { ...object.metadata, ...metadata } });

describe('the object that predates the webhook', () => {
  it('is one the webhook refuses when it is created now', async () => {
    const copy = { ...example, metadata: { name: 'vendor-tools-copy', namespace: NAMESPACE } };
    const answer = await request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), { body: copy, query: { dryRun: 'All' } });
    expect(answer.status, answer.text).toBe(422);
    expect(answer.body.details.causes.map((cause: { field: string }) => cause.field)).toContain('spec.headers[Authorization]');
  });
});

describe('metadata-only UPDATEs of it pass (ratcheting)', () => {
  it('a label', async () => {
    const answer = await patch('vendor-tools', mergePatch, { metadata: { labels: { team: 'platform' } } }, (before) =>
      withMetadata(before, { labels: { ...before.metadata.labels, team: 'platform' } }),
    );
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.metadata.labels).toEqual({ team: 'platform' });
  });

  it('a finalizer added', async () => {
    const answer = await patch('vendor-tools', mergePatch, { metadata: { finalizers: [FINALIZER] } }, (before) => withMetadata(before, { finalizers: [FINALIZER] }));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.metadata.finalizers).toEqual([FINALIZER]);
  });

  it('a finalizer removed, while the object is not being deleted', async () => {
    const answer = await patch('vendor-tools-held', jsonPatch, [{ op: 'remove', path: '/metadata/finalizers' }], withoutFinalizers);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body.metadata).not.toHaveProperty('finalizers');
  });
});

describe('spec UPDATEs of it', () => {
  it('pass when the problem it had stays as it was (ratcheting), with a warning that says it was already there', async () => {
    const answer = await patch('vendor-tools', mergePatch, { spec: { description: 'Vendor MCP server, token still to be filled in.' } }, (before) => ({
      ...before,
      spec: { ...before.spec, description: 'Vendor MCP server, token still to be filled in.' },
    }));
    expect(answer.status, answer.text).toBe(200);
    expect(answer.warnings.filter((warning) => warning.includes(RATCHETED_MARK)).length, answer.warnings.join('\n')).toBeGreaterThan(0);
  });

  it('are refused when they add a problem', async () => {
    const answer = await patch('vendor-tools', mergePatch, { spec: { headers: { 'X Tenant': 'acme' } } }, (before) => ({
      ...before,
      spec: { ...before.spec, headers: { ...before.spec.headers, 'X Tenant': 'acme' } },
    }));
    expect(answer.status, answer.text).toBe(422);
    expect(answer.body.details.causes.map((cause: { field: string }) => cause.field)).toContain('spec.headers[X Tenant]');
  });
});

describe('deleting it', () => {
  it('passes: the DELETE reaches the webhook, which lets it through', async () => {
    const lines = decisions(webhook).length;
    const answer = await request(endpoint(plane), 'DELETE', mcpServerPath(NAMESPACE, 'vendor-tools-finalized'));
    expect(answer.status, answer.text).toBe(200);
    // Held by its finalizer: marked for deletion, not gone.
    expect((await stored('vendor-tools-finalized')).metadata.deletionTimestamp).toEqual(expect.any(String));
    const line = await webhook.waitForLog((entry) => entry.event === 'admission' && entry.operation === 'DELETE', { skip: lines });
    expect(line).toMatchObject({ name: 'vendor-tools-finalized', decision: 'skipped', skipReason: 'operation' });
  });

  it('then removing its last finalizer passes, and the API server removes it', async () => {
    const answer = await patch('vendor-tools-finalized', jsonPatch, [{ op: 'remove', path: '/metadata/finalizers' }], withoutFinalizers);
    expect(answer.status, answer.text).toBe(200);
    expect((await request(endpoint(plane), 'GET', mcpServerPath(NAMESPACE, 'vendor-tools-finalized'))).status).toBe(404);
  });
});
