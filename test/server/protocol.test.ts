import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import request from 'supertest';
import { CAUSE_REASONS } from '../../src/admission/cause-reasons.js';
import { MAX_WARNING_LENGTH } from '../../src/admission/warnings.js';
import { RULES, parsePolicy, schemaDrift, validate } from '../../src/engine/index.js';
import { exampleFiles, readExample, remote, repositoryFile, stdio } from '../fixtures.js';
import { admissionReview, type ReviewOverrides } from '../admission/reviews.js';
import { APPLICATIONS, listening, metricValue, testApp, testApp as makeTestApp, type TestApp } from './test-app.js';

const tokenOverHttp = () => readExample('invalid/credential-over-plaintext.yaml');

async function post(app: ReturnType<typeof testApp>['app'], body: unknown) {
  return request(app).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(body));
}

describe('POST /validate: the admission protocol', () => {
  it.each(['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const)('answers a %s review in its own version and echoes the uid', async (apiVersion) => {
    const { app } = testApp();
    const res = await post(app, admissionReview(tokenOverHttp(), { apiVersion, uid: 'uid-of-this-review' }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ apiVersion, kind: 'AdmissionReview', response: { uid: 'uid-of-this-review', allowed: false } });
    expect(res.body.response.status).toMatchObject({ code: 422, reason: 'Invalid' });
  });

  it('judges an UPDATE on the new object, not the old one', async () => {
    const { app } = testApp();
    const denied = await post(app, admissionReview(tokenOverHttp(), { operation: 'UPDATE', oldObject: remote() }));
    expect(denied.body.response.allowed).toBe(false);
    const allowed = await post(app, admissionReview(remote(), { operation: 'UPDATE', oldObject: tokenOverHttp() }));
    expect(allowed.body.response.allowed).toBe(true);
  });

  it.each<[string, ReviewOverrides, unknown]>([
    ['a DELETE', { operation: 'DELETE' }, null],
    ['a CONNECT', { operation: 'CONNECT' }, tokenOverHttp()],
    ['the status subresource', { operation: 'UPDATE', subResource: 'status' }, tokenOverHttp()],
    ['another subresource', { operation: 'CREATE', subResource: 'proxy' }, tokenOverHttp()],
    ['another group with an MCPServer kind', { group: 'toolhive.stacklok.dev' }, tokenOverHttp()],
    ['another kind', { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' }, { data: { x: 1 } }],
  ])('allows %s at once, unchecked, and counts it', async (_name, overrides, object) => {
    const { app, metrics, logs } = testApp();
    const review = admissionReview(object, { ...overrides, oldObject: tokenOverHttp() });
    const res = await post(app, review);
    expect(res.status).toBe(200);
    expect(res.body.response).toEqual({ uid: (review.request as { uid: string }).uid, allowed: true });
    const operation = overrides.operation ?? 'CREATE';
    expect(metricValue((await metrics.exposition()).body, `mcpserver_webhook_admission_requests_total{operation="${operation}",decision="skipped"}`)).toBe(1);
    expect(logs().find((line) => line.event === 'admission')).toMatchObject({ decision: 'skipped', operation });
  });

  it('gives a dry run the same verdict, and marks it in the log', async () => {
    const { app, logs } = testApp();
    const real = await post(app, admissionReview(tokenOverHttp()));
    const dryRun = await post(app, admissionReview(tokenOverHttp(), { dryRun: true }));
    expect(dryRun.body).toEqual(real.body);
    expect(logs().filter((line) => line.event === 'admission').map((line) => line.dryRun)).toEqual([false, true]);
  });

  it('applies the policy overrides of the request namespace', async () => {
    const policy = parsePolicy('namespaces:\n  - names: [strict]\n    rules:\n      plaintext-url: deny\n', 'policy.yaml');
    const { app } = testApp(policy);
    const object = readExample('in-cluster-service.yaml');
    const elsewhere = await post(app, admissionReview(object, { namespace: 'muster' }));
    expect(elsewhere.body.response.allowed).toBe(true);
    const strict = await post(app, admissionReview(object, { namespace: 'strict' }));
    expect(strict.body.response.allowed).toBe(false);
    expect(strict.body.response.status.details.causes.map((cause: { message: string }) => cause.message)).toEqual([
      expect.stringMatching(/\[plaintext-url\]$/),
    ]);
  });

  it.each(exampleFiles('.').map((file) => [file]))('allows or denies examples/%s as the engine does', async (file) => {
    const { app } = testApp();
    const object = readExample(file);
    const res = await post(app, admissionReview(object));
    expect(res.body.response.allowed).toBe(validate(object, { context: 'admission' }).allowed);
  });

  it('answers examples/admission-review.json with a denial and its causes', async () => {
    const { app } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(readFileSync(repositoryFile('examples/admission-review.json'), 'utf8'));
    expect(res.body.response.allowed).toBe(false);
    expect(res.body.response.status.details.causes).toContainEqual(
      expect.objectContaining({ field: 'spec.url', reason: 'FieldValueForbidden', message: expect.stringMatching(/\[credential-over-plaintext\]$/) }),
    );
  });
});

describe('POST /validate: what each rule looks like to a client', () => {
  // Rules across objects have a folder of examples (examples/fleet/), judged with a fleet elsewhere.
  const ruleIds = exampleFiles('invalid')
    .map((file) => file.replace(/\.yaml$/, ''))
    .filter((rule) => !RULES.find((candidate) => candidate.id === rule)?.needs);

  it('has an example for every rule of one object', () => {
    expect(ruleIds.sort()).toEqual(RULES.filter((rule) => !rule.needs).map((rule) => rule.id).sort());
  });

  const manifestOnly = RULES.filter((rule) => rule.manifestOnly).map((rule) => rule.id);

  it.each(manifestOnly.map((rule) => [rule]))(
    'never shows %s at admission: the API server checked the schema, so what ours refuses is drift, counted and logged once per field',
    async (rule) => {
      const { app, metrics, logs } = testApp();
      const object = readExample(`invalid/${rule}.yaml`);
      const drift = schemaDrift(object);
      expect(drift.length).toBeGreaterThan(0);
      for (let attempt = 0; attempt < 2; attempt++) {
        const { response } = (await post(app, admissionReview(object))).body;
        // Never this rule; a rule of ours that stands for the same CRD rule still speaks (crd-cel-rule's example).
        expect(JSON.stringify(response)).not.toContain(`[${rule}]`);
        expect(response.allowed).toBe(validate(object, { context: 'admission' }).allowed);
      }
      const kind = rule === 'unknown-field' ? 'unknown-field' : 'schema-violation';
      const exposition = (await metrics.exposition()).body;
      expect(metricValue(exposition, `mcpserver_webhook_schema_drift_total{kind="${kind}"}`)).toBe(2 * drift.filter((d) => d.unknownField === (kind === 'unknown-field')).length);
      const driftLines = logs().filter((line) => line.event === 'schema-drift');
      expect(driftLines.map((line) => line.path).sort()).toEqual(drift.map((d) => d.path).sort());
      expect(driftLines.every((line) => line.level === 'warn' && String(line.msg).includes('upgrade the webhook'))).toBe(true);
    },
  );

  it.each(ruleIds.filter((rule) => !manifestOnly.includes(rule)).map((rule) => [rule]))('shows %s as the policy says: a cause, a warning or an audit annotation', async (rule) => {
    const { app } = testApp();
    const object = readExample(`invalid/${rule}.yaml`);
    const verdict = validate(object, { context: 'admission', namespace: { name: 'muster' } });
    const { response } = (await post(app, admissionReview(object))).body;
    const name = (object.metadata as { name: string }).name;

    const denials = verdict.denials.filter((finding) => finding.rule === rule);
    const warnings = verdict.warnings.filter((finding) => finding.rule === rule);
    expect(denials.length + warnings.length + verdict.audits.filter((finding) => finding.rule === rule).length).toBeGreaterThan(0);
    for (const denial of denials) {
      expect(response.status.details).toMatchObject({ group: 'muster.giantswarm.io', kind: 'MCPServer', name });
      expect(response.status.details.causes).toContainEqual({ field: denial.path, reason: CAUSE_REASONS[rule], message: `${denial.message} [${rule}]` });
      expect(response.status.message).toContain(`${denial.path}: ${denial.message} [${rule}]`);
      expect(response.auditAnnotations['denied-by'].split(',')).toContain(rule);
    }
    for (const warning of warnings) {
      expect(response.warnings).toContain(`${warning.path}: ${warning.summary} [${rule}]`);
      expect(response.warnings.every((text: string) => text.length <= MAX_WARNING_LENGTH)).toBe(true);
      expect(response.auditAnnotations['warned-by'].split(',')).toContain(rule);
    }
    expect(response.allowed).toBe(verdict.allowed);
  });
});

describe.each(APPLICATIONS)('POST /validate: bad input gets a clear 4xx, never a 500 (%s)', (_name, application) => {
  const testApp = (): TestApp => makeTestApp(undefined, undefined, application);

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'a=b'],
  ])('refuses a %s body with 415', async (type, body) => {
    const { app, metrics } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', type).send(body);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ error: 'Content-Type must be application/json' });
    expect(metricValue((await metrics.exposition()).body, 'mcpserver_webhook_rejected_requests_total{code="415"}')).toBe(1);
  });

  it('refuses a request without a content type with 415', async () => {
    const { app } = testApp();
    expect((await request(app).post('/validate')).status).toBe(415);
  });

  it('refuses malformed JSON with 400 and does not quote it back', async () => {
    const { app } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send('{"apiVersion": "admission.k8s.io/v1", "secret-part": tru');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'the body is not valid JSON: send an AdmissionReview object' });
    expect(res.text).not.toContain('secret-part');
  });

  it.each([
    ['an empty body', ''],
    ['null', 'null'],
    ['a number', '42'],
    ['an array', '[]'],
    ['an object that is not a review', '{"kind": "Pod"}'],
    ['a review without a request', '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}'],
  ])('refuses %s with 400 and a short JSON error', async (_name, body) => {
    const { app } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error.length).toBeLessThan(120);
  });

  it('refuses a compressed body with 415 rather than inflating it', async () => {
    const { app } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').set('Content-Encoding', 'gzip').send('{}');
    expect(res.status).toBe(415);
  });

  it('reads repeated body headers as Node does: the first Content-Type, every Content-Encoding', async () => {
    const { app } = testApp();
    const socket = await listening(app);
    const body = JSON.stringify(admissionReview(remote()));
    // supertest sends one line per header: a raw client repeats them.
    const status = (headers: Record<string, string | string[]>) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: socket.port, method: 'POST', path: '/validate', headers }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await status({ 'Content-Type': ['application/json', 'text/plain'] })).toBe(200);
      expect(await status({ 'Content-Type': 'application/json', 'Content-Encoding': ['identity', 'gzip'] })).toBe(415);
      expect(await status({ 'CONTENT-TYPE': 'Application/JSON; Charset=UTF-8' })).toBe(200);
    } finally {
      await socket.close();
    }
  });

  it('answers unknown paths with 404 and other methods on /validate with 405', async () => {
    const { app } = testApp();
    const missing = await request(app).get('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatch(/^not found/);
    const wrongMethod = await request(app).get('/validate');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('answers any JSON body, and any object inside a review, with something other than a 500', async () => {
    const { app } = testApp();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), fc.jsonValue().map((object) => admissionReview(object))), async (body) => {
        const res = await post(app, body);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  });
});

describe('POST /validate: a rule that throws', () => {
  it('denies with an internal-error finding, logs the stack, counts it, and serves the next request normally', async () => {
    const { app, metrics, logs, logText } = testApp();
    const rule = RULES.find((candidate) => candidate.id === 'header-syntax');
    if (!rule) throw new Error('header-syntax is not in the catalogue');
    // As JSON.parse would fail on a field's value: the message quotes it.
    const secret = 'ghp_QuotedInAnErrorMessage000000000000000';
    const spy = vi.spyOn(rule, 'check').mockImplementation(() => {
      throw new SyntaxError(`Unexpected token 'g', "${secret}" is not valid JSON`);
    });
    try {
      const res = await post(app, admissionReview(stdio()));
      expect(res.status).toBe(200);
      expect(res.body.response.allowed).toBe(false);
      expect(res.body.response.status.details.causes).toEqual([
        { reason: 'InternalError', message: expect.stringMatching(/rule header-syntax failed.*\[internal-error\]$/) },
      ]);
      const error = logs().find((line) => line.event === 'rule-error');
      expect(error).toMatchObject({ level: 'error', rule: 'header-syntax', error: { type: 'SyntaxError', message: 'Unexpected token "...", "..." is not valid JSON' } });
      expect((error?.error as { stack: string }).stack).toMatch(/^\s+at .*protocol\.test\.ts/);
      expect(logText()).not.toContain(secret);
      expect(res.text).not.toContain(secret);
      const exposition = (await metrics.exposition()).body;
      expect(exposition).not.toContain(secret);
      expect(metricValue(exposition, 'mcpserver_webhook_rule_errors_total{rule="header-syntax"}')).toBe(1);
    } finally {
      spy.mockRestore();
    }
    const next = await post(app, admissionReview(stdio()));
    expect(next.body.response.allowed).toBe(true);
  });
});

describe('the audit log', () => {
  it('writes one line per decision with who, what, the rules and paths that fired, and the latency', async () => {
    const { app, logs } = testApp();
    await post(app, admissionReview(tokenOverHttp(), { uid: 'audit-uid', dryRun: true }));
    const lines = logs().filter((line) => line.event === 'admission');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      uid: 'audit-uid',
      operation: 'CREATE',
      apiVersion: 'muster.giantswarm.io/v1alpha1',
      kind: 'MCPServer',
      namespace: 'muster',
      name: 'token-over-http',
      user: 'jane@example.com',
      dryRun: true,
      decision: 'denied',
      findings: expect.arrayContaining([{ rule: 'credential-over-plaintext', path: 'spec.url', action: 'deny' }]),
      warnings: expect.any(Array),
      latencyMs: expect.any(Number),
    });
    expect(lines[0]).not.toHaveProperty('object');
  });
});

describe('operations endpoints', () => {
  it('is alive, ready until it drains, and exposes Prometheus metrics', async () => {
    const { app, readiness } = testApp();
    expect((await request(app).get('/healthz')).text).toBe('ok\n');
    expect((await request(app).get('/readyz')).status).toBe(200);
    await post(app, admissionReview(tokenOverHttp()));
    const metrics = await request(app).get('/metrics');
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'mcpserver_webhook_admission_duration_seconds_count 1',
      'mcpserver_webhook_in_flight_requests 0',
      'mcpserver_webhook_findings_total{rule="credential-over-plaintext",action="deny"} 1',
      'process_cpu_user_seconds_total',
    ]) {
      expect(metrics.text).toContain(name);
    }
    readiness.drain();
    const draining = await request(app).get('/readyz');
    expect(draining.status).toBe(503);
    expect(draining.text).toBe('not ready: shutting down\n');
    expect(draining.headers.connection).toBe('close');
  });
});
