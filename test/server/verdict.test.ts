import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { createAjv } from '../../src/engine/schema.js';
import { parsePolicy, RULE_IDS, INTERNAL_ERROR_RULE, validate } from '../../src/engine/index.js';
import { verdictResult } from '../../src/report/results.js';
import { MAX_VERDICT_BODY_BYTES } from '../../src/server/verdict-route.js';
import { mcpServer, readExample, remote, repositoryFile, stdio } from '../fixtures.js';
import { metricValue, testApp } from './test-app.js';

const schema = JSON.parse(readFileSync(repositoryFile('schemas/verdict.json'), 'utf8')) as Record<string, unknown>;
const ajv = createAjv();
const validResponse = ajv.compile(schema);
const validRequest = ajv.compile({ ...(schema.definitions as Record<string, object>).request, definitions: schema.definitions });
const validError = ajv.compile({ ...(schema.definitions as Record<string, object>).error, definitions: schema.definitions });

function post(app: ReturnType<typeof testApp>['app'], body: unknown, query = '') {
  return request(app).post(`/v1/verdict${query}`).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

/** Every answer must match schemas/verdict.json: a verdict for 200, an error otherwise. */
function expectSchema(res: request.Response): void {
  const validator = res.status === 200 ? validResponse : validError;
  expect(validator(res.body), JSON.stringify(validator.errors)).toBe(true);
}

const tokenOverHttp = () => readExample('invalid/credential-over-plaintext.yaml');

describe('POST /v1/verdict', () => {
  it('answers a valid MCPServer with allowed and its findings, as validate --output json words them', async () => {
    const { app, metrics } = testApp();
    const res = await post(app, remote());
    expect(res.status).toBe(200);
    // Without a fleet view the rules across objects do not run, and the answer says so.
    expect(res.body).toEqual({ allowed: true, denials: [], warnings: [], audits: [], unchecked: ['tool-prefix-collision'] });
    expectSchema(res);
    expect(metricValue((await metrics.exposition()).body, 'mcpserver_webhook_verdict_requests_total{decision="allowed"}')).toBe(1);
  });

  it('answers a denied MCPServer with the reasons, the same verdict as the engine gives', async () => {
    const { app, metrics } = testApp();
    const object = tokenOverHttp();
    expect(validRequest(object)).toBe(true);
    const res = await post(app, object);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(verdictResult(validate(object, { context: 'admission' })));
    expect(res.body.allowed).toBe(false);
    expect(res.body.denials).toEqual([
      { rule: 'header-unresolved-placeholder', path: 'spec.headers[Authorization]', message: expect.stringMatching(/^spec.headers\[Authorization\]: still holds /) },
      { rule: 'credential-over-plaintext', path: 'spec.url', message: expect.stringContaining('sends the Authorization header over plain http://') },
    ]);
    expect(res.body.warnings.map((finding: { rule: string }) => finding.rule)).toEqual(['plaintext-url']);
    expectSchema(res);
    expect(metricValue((await metrics.exposition()).body, 'mcpserver_webhook_verdict_requests_total{decision="denied"}')).toBe(1);
  });

  it('gives any JSON object a verdict, an invalid one too', async () => {
    const { app } = testApp();
    for (const body of [{}, { spec: 42 }, { metadata: { name: 7 }, spec: { type: 'smoke-signals' } }, mcpServer({ type: 'stdio' }, { namespace: 42 })]) {
      // As a manifest, the schema refuses each; as a stored object (admission) the API server
      // has checked the schema already, so only the webhook's own rules speak.
      const manifest = await post(app, body, '?context=manifest');
      expect(manifest.status).toBe(200);
      expect(manifest.body.allowed).toBe(false);
      expectSchema(manifest);
      const admission = await post(app, body);
      expect(admission.status).toBe(200);
      expect(admission.body).toEqual(verdictResult(validate(body, { context: 'admission' })));
      expectSchema(admission);
    }
  });

  it('judges in the admission context unless ?context=manifest asks otherwise', async () => {
    const { app } = testApp();
    const placeholder = remote({ headers: { Authorization: 'Bearer ${VENDOR_TOKEN}' } });
    const admission = await post(app, placeholder);
    const manifest = await post(app, placeholder, '?context=manifest');
    expect(admission.body.denials.map((finding: { rule: string }) => finding.rule)).toEqual(['header-unresolved-placeholder']);
    expect(manifest.body).toEqual(verdictResult(validate(placeholder, { context: 'manifest' })));
    expect(manifest.body.allowed).toBe(true);
    expectSchema(manifest);
    expect((await post(app, placeholder, '?context=admission')).body).toEqual(admission.body);
  });

  it('counts drift between the cluster CRD and the webhook schema in objects it judges for admission, not in manifests', async () => {
    const { app, metrics, logs } = testApp();
    // A field a newer Muster's CRD has: the reconciler read the object from the cluster.
    const newer = remote({ tokenForwardingAudience: 'muster' });
    expect((await post(app, newer, '?context=manifest')).body.denials.map((finding: { rule: string }) => finding.rule)).toEqual(['unknown-field']);
    expect(logs().filter((line) => line.event === 'schema-drift')).toEqual([]);
    expect((await post(app, newer)).body.allowed).toBe(true);
    expect(metricValue((await metrics.exposition()).body, 'mcpserver_webhook_schema_drift_total{kind="unknown-field"}')).toBe(1);
    expect(logs().filter((line) => line.event === 'schema-drift').map((line) => line.path)).toEqual(['spec.tokenForwardingAudience']);
  });

  it('applies the policy of the object namespace, with its labels when the audit knows them', async () => {
    const policy = parsePolicy('namespaces:\n  - selector: {matchLabels: {tier: production}}\n    rules: {plaintext-url: deny}\n', 'tier.yaml');
    const plainHttp = (namespace: string) => mcpServer({ type: 'streamable-http', url: 'http://tools.vendor.example.com/mcp' }, { namespace });
    const labels = (name: string) => (name === 'prod' ? { name, labels: { tier: 'production' } } : { name });
    const { app } = testApp(policy, labels);
    expect((await post(app, plainHttp('prod'))).body.allowed).toBe(false);
    expect((await post(app, plainHttp('dev'))).body.allowed).toBe(true);
    // Without the audit's labels a selector matches no namespace, as before.
    expect((await post(testApp(policy).app, plainHttp('prod'))).body.allowed).toBe(true);
  });

  it.each<[string, number, string, string]>([
    ['malformed JSON', 400, '{"apiVersion": ', 'the body is not valid JSON: send an MCPServer object'],
    ['an array', 400, '[]', 'the body must be a JSON object: an MCPServer'],
    ['a string', 400, '"MCPServer"', 'the body must be a JSON object: an MCPServer'],
    ['null', 400, 'null', 'the body must be a JSON object: an MCPServer'],
    ['an empty body', 400, '', 'the body must be a JSON object: an MCPServer'],
  ])('refuses %s with %i', async (_name, status, body, error) => {
    const { app, metrics } = testApp();
    const res = await request(app).post('/v1/verdict').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(status);
    expect(res.body).toEqual({ error });
    expectSchema(res);
    expect(metricValue((await metrics.exposition()).body, `mcpserver_webhook_rejected_requests_total{code="${status}"}`)).toBe(1);
  });

  it('refuses an unknown context, a body that is not JSON, one over 3 MiB and another method', async () => {
    const { app } = testApp();
    const unknownContext = await post(app, remote(), '?context=cluster');
    expect([unknownContext.status, unknownContext.body]).toEqual([400, { error: 'context must be one of manifest, admission' }]);
    const twice = await post(app, remote(), '?context=manifest&context=admission');
    expect(twice.status).toBe(400);
    const yaml = await request(app).post('/v1/verdict').set('Content-Type', 'application/yaml').send('kind: MCPServer');
    expect([yaml.status, yaml.body]).toEqual([415, { error: 'Content-Type must be application/json' }]);
    const large = await request(app)
      .post('/v1/verdict')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(stdio({ args: ['x'.repeat(MAX_VERDICT_BODY_BYTES)] })));
    expect([large.status, large.body]).toEqual([413, { error: 'the body is larger than 3 MiB, the most a legitimate MCPServer needs' }]);
    const get = await request(app).get('/v1/verdict');
    expect([get.status, get.headers.allow, get.body]).toEqual([405, 'POST', { error: 'use POST to send an MCPServer' }]);
    for (const res of [unknownContext, twice, yaml, large, get]) expectSchema(res);
  });

  it('describes every rule ID the engine can report', () => {
    const { finding } = schema.definitions as { finding: { properties: { rule: { pattern: string } } } };
    const pattern = new RegExp(finding.properties.rule.pattern);
    for (const rule of [...RULE_IDS, INTERNAL_ERROR_RULE]) expect(rule).toMatch(pattern);
  });
});
