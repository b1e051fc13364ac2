import { request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlainListener, createTlsListener } from '../../src/server/listeners.js';
import { loadServingCertificate } from '../../src/server/certificates.js';
import { admissionReview } from '../admission/reviews.js';
import { mcpServerObject } from '../engine/arbitraries.js';
import { mcpServer, readExample, remote, repositoryFile, stdio } from '../fixtures.js';
import { readText } from '../server/child-server.js';
import { metricValue, testApp } from '../server/test-app.js';
import { answerProblem, isErrorBody } from './answers.js';
import { HOST, SOAK_SECONDS, loadDurationMs, mib, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';
import { runLoad } from './load.js';
import { slowClient, type SlowClient, type SlowKind } from './slow-clients.js';

/** One server for the whole file, as `npm start` runs it; every request goes over TLS on 127.0.0.1. */
let server: HardeningServer;

beforeAll(async () => {
  server = await startHardeningServer();
});

afterAll(async () => {
  // Whatever was sent, the server wrote no internal or server error, and no rule threw but where expected.
  const faults = server.child
    .logs()
    .filter((line) => ['internal-error', 'server-error', 'rule-error'].includes(String(line.event)) || line.level === 'fatal')
    .filter((line) => !(line.event === 'rule-error' && String(line.uid).startsWith(RULE_ERROR_EXPECTED)));
  const metrics = await server.metrics();
  const total = (name: string): number =>
    metrics
      .split('\n')
      .filter((line) => line.startsWith(`${name}{`))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  reportFigures('hostile input', {
    reviewsAnswered: total('mcpserver_webhook_admission_requests_total'),
    requestsRefused: total('mcpserver_webhook_rejected_requests_total'),
    rssMiB: mib(metricValue(metrics, 'process_resident_memory_bytes') ?? Number.NaN),
    rssLargestMiB: mib(largest.rss),
    rssLargestAfter: largest.name,
  });
  expect(await server.stop()).toBe(0);
  expect(faults).toEqual([]);
  expect(server.child.stderr()).toBe('');
});

/** The uid of a review on which a rule may fail (and the object is denied): megabytes that overflow a regular expression. */
const RULE_ERROR_EXPECTED = 'rule-error-expected';

/** Property runs: a few hundred in `npm test`, more in a soak. */
const runs = (short: number): number => (SOAK_SECONDS > 0 ? short * Math.ceil(SOAK_SECONDS / 10) : short);

const DENIED = readExample('invalid/credential-over-plaintext.yaml');
const ALLOWED = remote();

/**
 * Sends `body`, expects the answer within `limitMs`, and checks it against what the admission
 * code and the engine make of the same body here.
 */
async function expectSameAsInProcess(body: string | Buffer, limitMs = 10_000): Promise<void> {
  const answer = await within(limitMs, server.call({ body }));
  expect(answerProblem(Buffer.isBuffer(body) ? body.toString('utf8') : body, answer)).toBeUndefined();
}

async function expectAlive(): Promise<void> {
  expect(await within(5000, server.isHealthy())).toBe(true);
}

/** Checks every value `arbitrary` makes (`shortRuns` of them in `npm test`), then that the server is still alive. */
async function forAllThenAlive<T>(arbitrary: fc.Arbitrary<T>, shortRuns: number, check: (value: T) => Promise<void>): Promise<void> {
  await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns: runs(shortRuns) });
  await expectAlive();
}

describe('arbitrary input to the running server', () => {
  it(
    'answers arbitrary bytes, and JSON cut or spoilt anywhere, with a short JSON 4xx, never a 5xx',
    async () => {
      const spoiltJson = fc
        .tuple(fc.jsonValue(), fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))
        .map(([value, at, bytes]) => {
          const text = Buffer.from(JSON.stringify(admissionReview(value)));
          const cut = at % (text.length + 1);
          return Buffer.concat([text.subarray(0, cut), Buffer.from(bytes), text.subarray(cut + 1)]);
        });
      const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/merge-patch+json', 'application/json; charset=latin1', 'text/plain', '');
      await forAllThenAlive(fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 4096 }), spoiltJson), contentType), 150, async ([body, type]) => {
        const answer = await within(10_000, server.call({ body: Buffer.from(body), headers: { 'Content-Type': type } }));
        expect(answer.status).toBeLessThan(500);
        if (answer.status === 200) expect(answerProblem(Buffer.from(body).toString('utf8'), answer)).toBeUndefined();
        else expect(isErrorBody(answer.body)).toBe(true);
      });
    },
    timeLimitMs(60_000),
  );

  it(
    'answers any JSON value with 400 and an error of its own words',
    async () => {
      await forAllThenAlive(fc.jsonValue(), 100, async (value) => {
        const body = JSON.stringify(value) ?? 'null';
        expect(answerProblem(body, await within(10_000, server.call({ body })))).toBeUndefined();
      });
    },
    timeLimitMs(60_000),
  );

  it(
    'answers reviews with anything in any field as the admission code does in-process: 400, or the uid echoed with the right verdict',
    async () => {
      const fields = [
        ['apiVersion'],
        ['kind'],
        ['request'],
        ['request', 'uid'],
        ['request', 'kind'],
        ['request', 'kind', 'group'],
        ['request', 'kind', 'kind'],
        ['request', 'resource'],
        ['request', 'resource', 'group'],
        ['request', 'resource', 'resource'],
        ['request', 'subResource'],
        ['request', 'name'],
        ['request', 'namespace'],
        ['request', 'operation'],
        ['request', 'userInfo'],
        ['request', 'userInfo', 'username'],
        ['request', 'object'],
        ['request', 'object', 'metadata'],
        ['request', 'object', 'metadata', 'deletionTimestamp'],
        ['request', 'object', 'spec'],
        ['request', 'oldObject'],
        ['request', 'dryRun'],
      ] as const;
      const meaningful = fc.constantFrom(
        undefined,
        null,
        '',
        {},
        [],
        true,
        'admission.k8s.io/v1beta1',
        'AdmissionReview',
        'UPDATE',
        'DELETE',
        'CONNECT',
        'PATCH',
        'muster.giantswarm.io',
        'mcpservers',
        'status',
        '2026-11-26T09:00:00Z',
      );
      const change = fc.tuple(fc.constantFrom(...fields), fc.oneof(meaningful, fc.jsonValue({ maxDepth: 2 })));
      const review = fc.tuple(mcpServerObject, fc.uuid(), fc.array(change, { maxLength: 4 })).map(([object, uid, changes]) => {
        const base = JSON.parse(JSON.stringify(admissionReview(object ?? {}, { uid, operation: 'UPDATE', oldObject: object }))) as Record<string, unknown>;
        for (const [path, value] of changes) setPath(base, path, value);
        return JSON.stringify(base);
      });
      await forAllThenAlive(review, 200, async (body) => {
        expect(answerProblem(body, await within(10_000, server.call({ body })))).toBeUndefined();
      });
    },
    timeLimitMs(60_000),
  );

  it(
    'gives a valid review of any object the verdict of validate(object, { context: "admission" })',
    async () => {
      const review = fc
        .tuple(mcpServerObject, fc.uuid(), fc.constantFrom('CREATE', 'UPDATE') as fc.Arbitrary<'CREATE' | 'UPDATE'>, fc.boolean(), fc.constantFrom('admission.k8s.io/v1', 'admission.k8s.io/v1beta1') as fc.Arbitrary<'admission.k8s.io/v1'>)
        .map(([object, uid, operation, dryRun, apiVersion]) => JSON.stringify(admissionReview(object ?? null, { uid, operation, dryRun, apiVersion })));
      let judged = 0;
      await forAllThenAlive(review, 300, async (body) => {
        const answer = await within(10_000, server.call({ body }));
        expect(answerProblem(body, answer)).toBeUndefined();
        if (answer.status === 200) judged += 1;
      });
      // Most of them were reviews the webhook judged, not refusals.
      expect(judged).toBeGreaterThan(runs(300) / 2);
    },
    timeLimitMs(60_000),
  );
});

/** Sets (or, for undefined, deletes) the value at `path`, where the parent is an object. */
function setPath(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let parent: unknown = root;
  for (const key of path.slice(0, -1)) parent = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[key] : undefined;
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return;
  const last = path[path.length - 1] ?? '';
  if (value === undefined) delete (parent as Record<string, unknown>)[last];
  else Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
}

/** `{"a":{"a":...leaf...}}`, `depth` levels deep. */
function nested(depth: number, leaf = '1'): string {
  return `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;
}

/** A review of `object` in which the string "@RAW@" is replaced by raw JSON text (to nest deeper than JSON.stringify can). */
function reviewWith(object: unknown, raw: string, overrides: Parameters<typeof admissionReview>[1] = {}): string {
  return JSON.stringify(admissionReview(object, overrides)).replace('"@RAW@"', raw);
}

const MIB = 1024 * 1024;
/** Megabyte-sized strings: a body with one stays under the 7 MiB limit. */
const LONG = 6 * MIB;
const long = (unit: string, length = LONG): string => unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

/** The case after which the server's resident size was largest. */
let largest = { rss: 0, name: '' };

describe('specific hostile input', () => {
  const terminating = (spec: unknown): Record<string, unknown> => ({ ...ALLOWED, metadata: { name: 'deep', namespace: 'muster', deletionTimestamp: '2026-11-26T09:00:00Z' }, spec });
  const cases: [string, () => string | Buffer][] = [
    ['a body nested 100,000 levels deep', () => nested(100_000)],
    ['request.object nested 100,000 levels deep', () => reviewWith('@RAW@', nested(100_000))],
    ['a spec field nested 5,000 levels deep', () => reviewWith(remote({ description: '@RAW@' }), nested(5000))],
    ['an UPDATE of a terminating object whose spec is nested 20,000 levels deep (too deep for JSON.stringify)', () =>
      reviewWith(terminating('@RAW@'), nested(20_000), { operation: 'UPDATE', oldObject: terminating({ type: 'stdio' }) })],
    ['an array nested 1,000,000 levels deep in the object', () => reviewWith(remote({ args: '@RAW@' }), `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)],
    ['a 6 MiB field name (a typo suggestion must not compare it letter by letter)', () => JSON.stringify(admissionReview(remote({ [long('k')]: 1 })))],
    // 1 MiB: a search that starts again at every repetition takes minutes on it, while at 6 MiB V8
    // gives up at once (its backtracking stack overflows) and the rule error would hide the slowness.
    ...['${', '$(', '{{', 'eyJ-', 'your', 'insert', '-----BEGIN A'].map((unit): [string, () => string] => [
      `a 1 MiB header value of ${JSON.stringify(unit)} repeated (no search may start again at every one)`,
      () => JSON.stringify(admissionReview(remote({ url: 'http://tools.example.com/mcp', headers: { Authorization: `Bearer ${long(unit, MIB)}` } }))),
    ]),
    ['a 6 MiB header value', () => JSON.stringify(admissionReview(remote({ headers: { 'X-Tenant': long('tenant-') } })))],
    // The schema's name pattern overflows V8's backtracking stack on it: at admission the schema is
    // not checked (a real API server refuses such a name before any webhook), and the drift check
    // after the answer gives up on it; in a manifest it is denied with an internal-error finding.
    ['a 6 MiB metadata.name of dotted labels', () => JSON.stringify(admissionReview(mcpServer({ type: 'stdio', command: 'x' }, { name: `${long('a.')}!` }), { uid: `${RULE_ERROR_EXPECTED}-name`, name: 'dotted' }))],
    ['a 6 MiB header name', () => JSON.stringify(admissionReview(remote({ headers: { [long('X-')]: 'v' } })))],
    ['a 3 MiB name and a 3 MiB uid', () => JSON.stringify(admissionReview(remote(), { name: long('n').slice(0, LONG / 2), uid: long('u').slice(0, LONG / 2) }))],
    ['3 million list items that each break the schema (7 MiB)', () => JSON.stringify(admissionReview(remote({ args: new Array(3_000_000).fill(0) })))],
    ['300,000 map entries that each break the schema', () => JSON.stringify(admissionReview(remote({ headers: Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`h${i}`, i])) })))],
    ['duplicate keys: the last one counts, as everywhere', () =>
      `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${JSON.stringify(admissionReview(DENIED, { uid: 'first' }).request)},"request":${JSON.stringify(admissionReview(ALLOWED, { uid: 'second' }).request)}}`],
    ['duplicate keys inside the object: a credential over plain http after a harmless url', () =>
      JSON.stringify(admissionReview(ALLOWED)).replace('"url":"https://mcp.example.com/mcp"', '"url":"https://mcp.example.com/mcp","headers":{"Authorization":"Bearer abc"},"url":"http://tools.example.com/mcp"')],
    ['invalid UTF-8 in the uid and in a header value', () => {
      const [before, middle, after] = JSON.stringify(admissionReview(remote({ headers: { 'X-Tenant': '@BYTES@' } }), { uid: '@BYTES@' })).split('@BYTES@');
      return Buffer.concat([Buffer.from(before ?? ''), Buffer.from([0xff, 0xfe]), Buffer.from(middle ?? ''), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from(after ?? '')]);
    }],
    ...['1e400', '-1e400', '1e-400', '9007199254740993', '123456789012345678901234567890', '-0'].map((number): [string, () => string] => [
      `the number ${number} as a timeout`,
      () => reviewWith(remote({ timeout: '@RAW@' }), number),
    ]),
    ['a number as the uid', () => JSON.stringify(admissionReview(ALLOWED)).replace('"uid":"b1f6e0a4-3c2d-4f5e-8a9b-0c1d2e3f4a5b"', '"uid":1e400')],
    ...(['request', 'request.kind', 'request.resource', 'request.object', 'request.userInfo', 'object.metadata', 'object.spec', 'object.spec.headers', 'object.spec.auth'] as const).map(
      (where): [string, () => string] => [`null as ${where}`, () => JSON.stringify(withNull(admissionReview(readExample('vendor-tools.yaml')), where))],
    ),
    ...([['a string', 'an MCPServer'], ['a number', 42], ['an array', [ALLOWED]], ['true', true]] as const).map(([what, object]): [string, () => string] => [
      `a review whose object is ${what}`,
      () => JSON.stringify(admissionReview(object)),
    ]),
    ['an empty body', () => ''],
    ['a body of white space', () => ' \n\t '],
    ['a UTF-8 byte order mark before the review', () => `\ufeff${JSON.stringify(admissionReview(ALLOWED))}`],
  ];

  it.each(cases)('%s: answered within 8 s as the admission code does in-process, and the server lives on', async (name, body) => {
    await expectSameAsInProcess(body(), 8000);
    await expectAlive();
    const rss = await server.rss();
    if (rss > largest.rss) largest = { rss, name };
  }, 30_000);

  it('never lets __proto__, constructor or prototype keys change a later review, in the server process', async () => {
    const polluting = pollutingReviews();
    for (const body of polluting) expect((await within(10_000, server.call({ body }))).status).toBeLessThan(500);
    // Had any of them reached Object.prototype, these would be skipped (subResource) or allowed.
    await expectSameAsInProcess(JSON.stringify(admissionReview(DENIED, { uid: 'after-pollution' })));
    const denied = JSON.parse((await server.call({ body: JSON.stringify(admissionReview(DENIED)) })).body);
    expect(denied.response.allowed).toBe(false);
    expect(JSON.stringify(denied)).not.toContain('polluted');
    await expectSameAsInProcess(JSON.stringify(admissionReview(stdio())));
  });

  it('never lets them reach Object.prototype in-process either, through the application', async () => {
    const { app } = testApp();
    for (const body of pollutingReviews()) {
      const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(body);
      expect(res.status).toBeLessThan(500);
    }
    const probe: Record<string, unknown> = {};
    for (const key of ['polluted', 'subResource', 'allowed', 'dryRun', 'deletionTimestamp']) expect(probe[key], key).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
    const denied = await request(app).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(admissionReview(DENIED)));
    expect(denied.body.response.allowed).toBe(false);
  });

  it('refuses a body announced as 100 MiB with 413 after a few KiB, at once, and closes the connection', async () => {
    const started = performance.now();
    const { status, connection, sent } = await within(5000, announceAndTrickle(100 * 1024 * 1024, 4096));
    const elapsed = performance.now() - started;
    expect(status).toBe(413);
    expect(connection).toBe('close');
    expect(sent).toBe(4096);
    expect(elapsed).toBeLessThan(3000);
    await expectAlive();
    reportFigures('body over the limit', { announcedBytes: 100 * 1024 * 1024, sentBytes: sent, answeredInMs: Math.round(elapsed), status });
  });
});

/** Reviews with __proto__, constructor and prototype keys in every place a review has objects. */
function pollutingReviews(): string[] {
  const poison = '{"polluted":"yes","subResource":"status","allowed":true,"dryRun":true,"deletionTimestamp":"2026-11-26T09:00:00Z"}';
  const keys = ['"__proto__":@P@', '"constructor":{"prototype":@P@}', '"prototype":@P@'].map((key) => key.replace('@P@', poison));
  const review = JSON.stringify(admissionReview(readExample('vendor-tools.yaml'), { uid: 'pollution', operation: 'UPDATE', oldObject: ALLOWED }));
  const places = ['"request":{', '"kind":{', '"userInfo":{', '"object":{', '"metadata":{', '"spec":{', '"headers":{', '"oldObject":{'];
  for (const place of places) expect(review).toContain(place);
  return keys.flatMap((key) => [`{${key},${review.slice(1)}`, ...places.map((place) => review.replace(place, `${place}${key},`))]);
}

function withNull(review: Record<string, unknown>, where: string): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(review)) as Record<string, unknown>;
  const path = where.startsWith('object') ? ['request', ...where.split('.')] : where.split('.');
  setPath(copy, path, null);
  return copy;
}

/** Announces `announced` bytes, sends `sent`, and waits for the answer without sending more. */
function announceAndTrickle(announced: number, sent: number): Promise<{ status: number; connection: string | undefined; sent: number }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: HOST, port: server.child.port, ca: server.ca, method: 'POST', path: '/validate', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': announced } },
      (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, sent }));
      },
    );
    req.on('error', reject);
    req.write(Buffer.alloc(sent, 0x20));
  });
}

describe('slow clients (slowloris)', () => {
  const SLOW_PER_KIND = 30;
  /**
   * How long each kind may hold its connection: Node checks headersTimeout (105 s) and
   * requestTimeout (110 s) every 30 s (connectionsCheckingInterval); a TLS handshake has 120 s.
   */
  const CUT_WITHIN_MS: Record<SlowKind, number> = { headers: 105_000 + 30_000 + 5000, body: 110_000 + 30_000 + 5000, handshake: 120_000 + 5000 };
  const waitForCut = SOAK_SECONDS * 1000 >= CUT_WITHIN_MS.body;

  it(
    'serves other clients promptly while many connections trickle their headers or body, or never start TLS (and, in a soak of 145 s or more, cuts them all in time)',
    async () => {
      const slow: SlowClient[] = (['headers', 'body', 'handshake'] as SlowKind[]).flatMap((kind) =>
        Array.from({ length: SLOW_PER_KIND }, () => slowClient(kind, server.child.port, server.ca, 500)),
      );
      try {
        await sleep(1000);
        // The server holds every one of them.
        expect(slow.filter((client) => client.isOpen())).toHaveLength(slow.length);
        expect(await server.metric('process_open_fds')).toBeGreaterThanOrEqual(slow.length);
        const body = JSON.stringify(admissionReview(DENIED));
        const load = runLoad(
          {
            concurrency: 4,
            send: async () => {
              const answer = await server.call({ body });
              return answer.status === 200 && JSON.parse(answer.body).response.allowed === false ? undefined : `status ${answer.status}`;
            },
          },
          loadDurationMs(3000),
        );
        const result = await within(loadDurationMs(3000) + 30_000, load, 'the load');
        reportFigures('slow clients', {
          slowConnections: slow.length,
          requests: result.sent,
          failed: result.failed,
          p50Ms: result.latencyP50Ms,
          p99Ms: result.latencyP99Ms,
          maxMs: result.latencyMaxMs,
          slowStillOpen: slow.filter((client) => client.isOpen()).length,
          rssMiB: mib(await server.rss()),
        });
        expect(result.failures).toEqual({});
        expect(result.sent).toBeGreaterThan(20);
        // The API server gives up on a review after 10 s by default; here nobody waits more than 2 s.
        expect(result.latencyMaxMs).toBeLessThan(2000);
        if (waitForCut) {
          for (const kind of ['headers', 'body', 'handshake'] as const) {
            const ofKind = slow.filter((client) => client.kind === kind);
            const cutAfter = await Promise.all(ofKind.map(({ closed }) => within(CUT_WITHIN_MS[kind], closed, `cutting a slow ${kind} client`)));
            reportFigures(`slow clients cut (${kind})`, { firstMs: Math.round(Math.min(...cutAfter)), lastMs: Math.round(Math.max(...cutAfter)) });
            expect(Math.max(...cutAfter)).toBeLessThan(CUT_WITHIN_MS[kind]);
          }
        }
      } finally {
        for (const client of slow) client.destroy();
      }
      await expectAlive();
    },
    timeLimitMs(60_000, 3000) + (waitForCut ? CUT_WITHIN_MS.handshake : 0),
  );

  it('runs with the connection timeouts docs/serve.md states, on the HTTPS and the metrics listener', () => {
    const guide = readText(repositoryFile('docs/serve.md').pathname);
    const stated = Object.fromEntries([...guide.matchAll(/(\d+) s \(`(keepAliveTimeout|headersTimeout|requestTimeout)`/g)].map((match) => [match[2], Number(match[1]) * 1000]));
    expect(Object.keys(stated).sort()).toEqual(['headersTimeout', 'keepAliveTimeout', 'requestTimeout']);
    const certificate = loadServingCertificate(server.certDir);
    for (const listener of [createTlsListener(() => undefined, certificate, undefined), createPlainListener(() => undefined)]) {
      expect({ keepAliveTimeout: listener.keepAliveTimeout, headersTimeout: listener.headersTimeout, requestTimeout: listener.requestTimeout }).toEqual(stated);
    }
  });
});

