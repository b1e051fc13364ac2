import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleFiles, readExample, repositoryFile } from '../fixtures.js';
import type { ChildServer } from '../server/child-server.js';
import { adminClients, createNamespace, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath, type Clients } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { expectAnswer, expectedAnswer } from './expected.js';
import { request, type KubeAnswer } from './kube-http.js';
import { freePort, temporaryFolder } from './processes.js';
import { decisions, registerWebhook, startWebhook, untilWebhookCalled, webhookCa, WEBHOOK_NAME } from './webhook.js';

/**
 * Every example written through a real kube-apiserver with the upstream CRD and this webhook
 * registered (failurePolicy Fail): what the API server does before the webhook (defaults, CEL
 * rules, strict field validation, pruning), and that what the client gets is the webhook's
 * answer as the project's own code works it out for the object the API server had.
 */

const NAMESPACE = 'muster';

interface Example {
  readonly file: string;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

const examples: Example[] = [...exampleFiles('.').map((file) => file), ...exampleFiles('invalid').map((file) => `invalid/${file}`)].map((file) => {
  const object = readExample(file);
  return { file, name: String((object.metadata as { name: string }).name), object };
});

/** A write as `kubectl create` sends it: strict field validation, so an unknown field is an error. */
function create(plane: ControlPlane, object: unknown, query: Record<string, string> = {}): Promise<KubeAnswer> {
  return request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), { body: object, query: { fieldValidation: 'Strict', ...query } });
}

let plane: ControlPlane;
let clients: Clients;
let webhook: ChildServer;
const webhookFolder = temporaryFolder('webhook');
let webhookPort: number;
/** Each example as the API server answered a server-side dry run before the webhook was registered. */
const beforeWebhook = new Map<string, KubeAnswer>();

beforeAll(async () => {
  plane = await startControlPlane();
  clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await createNamespace(clients, NAMESPACE);
  for (const example of examples) beforeWebhook.set(example.file, await create(plane, example.object, { dryRun: 'All' }));
  webhookPort = await freePort();
  webhook = await startWebhook(webhookFolder.path, { port: webhookPort });
  await registerWebhook(clients, webhookPort, webhookCa(webhookFolder.path));
  await untilWebhookCalled(plane, webhook, NAMESPACE);
});

afterAll(async () => {
  await webhook?.stop();
  await plane?.stop();
  webhookFolder.remove();
});

/** The object as the API server would store it (its defaults filled in), from the dry run before the webhook. */
function storedForm(example: Example): Record<string, unknown> | undefined {
  const answer = beforeWebhook.get(example.file);
  return answer && answer.status < 300 ? (answer.body as Record<string, unknown>) : undefined;
}

const rejectedByApiServer = (): Example[] => examples.filter((example) => storedForm(example) === undefined);
const reachingWebhook = (): Example[] => examples.filter((example) => storedForm(example) !== undefined);

describe('before the webhook: the API server itself', () => {
  it('rejects the examples that break the CRD: its CEL rules, schema and strict field validation', () => {
    // Facts of the upstream CRD (schemas/upstream/), whatever the webhook's rules say.
    expect(rejectedByApiServer().map((example) => example.file)).toEqual([
      'invalid/args-stdio-only.yaml',
      'invalid/authorization-server-forward-token-conflict.yaml',
      'invalid/authorization-server-issuer.yaml',
      'invalid/authorization-server-oauth-only.yaml',
      'invalid/authorization-server-token-exchange-conflict.yaml',
      'invalid/crd-cel-rule.yaml',
      'invalid/crd-cel-unchecked.yaml',
      'invalid/headers-remote-only.yaml',
      'invalid/remote-url-required.yaml',
      'invalid/schema-violation.yaml',
      'invalid/stdio-command-required.yaml',
      'invalid/unknown-field.yaml',
    ]);
    for (const example of rejectedByApiServer()) {
      const answer = beforeWebhook.get(example.file);
      expect(answer?.body, example.file).toMatchObject({ kind: 'Status', status: 'Failure' });
      expect([400, 422], example.file).toContain(answer?.status);
    }
  });

  it('fills in the CRD defaults before any webhook sees the object, as in the recorded reviews', () => {
    const recorded = recordedCreates();
    const compared = reachingWebhook().filter((example) => recorded.has(example.name));
    expect(compared.length).toBeGreaterThan(10);
    for (const example of compared) expect(storedForm(example)?.spec, example.file).toEqual(recorded.get(example.name));
    expect(storedForm(compared[0] as Example)?.spec).toMatchObject({ timeout: 30, autoStart: false });
  });
});

function sortedCauses(status: { details?: { causes?: { field?: string; message?: string }[] } } | undefined): string[] {
  return (status?.details?.causes ?? []).map((cause) => `${cause.field}: ${cause.message}`).sort();
}

/** The spec of each object in the recorded CREATE reviews (test/recorded/), by name. */
function recordedCreates(): Map<string, unknown> {
  const folder = 'test/recorded/reviews';
  const specs = new Map<string, unknown>();
  for (const file of readdirSync(repositoryFile(folder)).filter((name) => /^\d+-CREATE-/.test(name)).sort()) {
    const { review } = JSON.parse(readFileSync(repositoryFile(`${folder}/${file}`), 'utf8')) as { review: { request: { name: string; object: { spec: unknown } } } };
    if (!specs.has(review.request.name)) specs.set(review.request.name, review.request.object.spec);
  }
  return specs;
}

describe('through the API server, with the webhook registered', () => {
  it('answers a server-side dry run (dryRun=All) of each example with the webhook\'s answer for the stored form', async () => {
    const lines = decisions(webhook).length;
    for (const example of reachingWebhook()) {
      const answer = await create(plane, example.object, { dryRun: 'All' });
      expectAnswer(answer, expectedAnswer({ operation: 'CREATE', object: storedForm(example), dryRun: true }), example.file);
    }
    await webhook.waitForLog((line) => line.event === 'admission' && line.name === reachingWebhook().at(-1)?.name, { skip: lines });
    const logged = decisions(webhook).slice(lines);
    expect(logged.map((line) => line.name)).toEqual(reachingWebhook().map((example) => example.name));
    expect(logged.every((line) => line.dryRun === true)).toBe(true);
    // Nothing was stored.
    const list = await request(endpoint(plane), 'GET', mcpServerPath(NAMESPACE));
    expect(list.body.items).toEqual([]);
  });

  it('creates each example or refuses it with the webhook\'s causes and warnings, as the project\'s code works them out', async () => {
    const outcome: Record<string, string> = {};
    for (const example of reachingWebhook()) {
      const answer = await create(plane, example.object);
      const expected = expectedAnswer({ operation: 'CREATE', object: storedForm(example) });
      expectAnswer(answer, expected, example.file);
      if (expected.allowed) expect(answer.body.spec, example.file).toEqual(storedForm(example)?.spec);
      outcome[example.file] = answer.status === 201 ? 'created' : `${answer.status} ${answer.body.reason}`;
    }
    // The examples a user starts from are admitted; vendor-tools still holds its <token> placeholder.
    const topLevel = Object.entries(outcome).filter(([file]) => !file.startsWith('invalid/'));
    expect(Object.fromEntries(topLevel)).toEqual({
      'atlassian.yaml': 'created',
      'forward-token.yaml': 'created',
      'in-cluster-service.yaml': 'created',
      'oauth-discovery.yaml': 'created',
      'stdio-kubernetes.yaml': 'created',
      'token-exchange.yaml': 'created',
      'vendor-tools.yaml': '422 Invalid',
    });
    // Each denied example is denied by the webhook, in the API server's Invalid shape.
    for (const [file, result] of Object.entries(outcome)) expect(['created', '422 Invalid'], file).toContain(result);
  });

  it('never calls the webhook for an object the CRD rejects, and gives the API server\'s own answer', async () => {
    const lines = decisions(webhook).length;
    for (const example of rejectedByApiServer()) {
      const answer = await create(plane, example.object);
      const before = beforeWebhook.get(example.file);
      expect(answer.status, example.file).toBe(before?.status);
      expect(answer.body.reason, example.file).toBe(before?.body.reason);
      // The API server lists schema errors in no fixed order (they come from a walk over a map).
      expect(sortedCauses(answer.body), example.file).toEqual(sortedCauses(before?.body));
    }
    // A last write that does reach the webhook: once its line is there, every earlier one would be.
    const sentinel = { ...readExample('stdio-kubernetes.yaml'), metadata: { name: 'sentinel', namespace: NAMESPACE } };
    expect((await create(plane, sentinel, { dryRun: 'All' })).status).toBe(201);
    await webhook.waitForLog((line) => line.event === 'admission' && line.name === 'sentinel', { skip: lines });
    const names = new Set(rejectedByApiServer().map((example) => example.name));
    expect(decisions(webhook).slice(lines).filter((line) => names.has(String(line.name)))).toEqual([]);
  });

  it('drops an unknown field before the webhook when the client does not ask for strict validation, and says so in a warning', async () => {
    const example = examples.find((candidate) => candidate.file === 'invalid/unknown-field.yaml') as Example;
    const answer = await request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), { body: example.object, query: { dryRun: 'All' } });
    expect(answer.status, answer.text).toBe(201);
    expect(answer.body.spec).not.toHaveProperty('forwardtoken');
    const expected = expectedAnswer({ operation: 'CREATE', object: answer.body, dryRun: true });
    expect(answer.warnings).toEqual([...(expected.warnings ?? []), 'unknown field "spec.forwardtoken"']);
  });
});

describe('failurePolicy Fail', () => {
  it('refuses writes with the API server\'s own message while the webhook is down, and lets them through once it is back', async () => {
    await webhook.stop();
    const object = { ...readExample('stdio-kubernetes.yaml'), metadata: { name: 'while-down', namespace: NAMESPACE } };
    const refused = await create(plane, object);
    expect(refused.status, refused.text).toBe(500);
    expect(refused.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'InternalError', code: 500 });
    expect(refused.body.message).toContain(`failed calling webhook "${WEBHOOK_NAME}"`);
    expect(refused.body.message).toContain(`https://127.0.0.1:${webhookPort}/validate`);
    expect(refused.body.message).toContain('connection refused');
    expect((await request(endpoint(plane), 'GET', mcpServerPath(NAMESPACE, 'while-down'))).status).toBe(404);

    webhook = await startWebhook(webhookFolder.path, { port: webhookPort });
    await untilWebhookCalled(plane, webhook, NAMESPACE);
    const created = await create(plane, object);
    expect(created.status, created.text).toBe(201);
  });
});
