import { randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/engine/index.js';
import { admissionReview } from '../admission/reviews.js';
import { mcpServer } from '../fixtures.js';
import type { HttpsAnswer } from '../server/child-server.js';
import { HOST, startHardeningServer, type HardeningServer } from './harness.js';

/**
 * Distinctive random values, new at every run, in every place a token can sit: object headers
 * (a well-known format, a JSON Web Token, an opaque value), object env, and the server's own
 * environment. None may come out anywhere.
 */
const random = (): string => randomBytes(16).toString('hex');
const TOKENS = {
  github: `ghp_${random()}${random().slice(0, 4)}`,
  jwt: `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ${random()}.${random()}`,
  opaque: `opaque-${random()}`,
  envValue: `env-${random()}`,
  envGithub: `ghp_${random()}${random().slice(0, 4)}`,
  serverEnv: `server-env-${random()}`,
} as const;

let server: HardeningServer;
const answers: { what: string; answer: HttpsAnswer }[] = [];

beforeAll(async () => {
  server = await startHardeningServer([], { LOG_LEVEL: 'trace', MCP_SERVER_TOKEN: TOKENS.serverEnv, GITHUB_TOKEN: TOKENS.envGithub });
});

afterAll(async () => {
  await server.stop();
});

const headers = { Authorization: `Bearer ${TOKENS.github}`, 'X-Api-Key': TOKENS.opaque, 'X-Session': TOKENS.jwt };
const env = { API_TOKEN: TOKENS.envValue, GITHUB_TOKEN: TOKENS.envGithub };

/** An object for each verdict, each carrying every token. */
const OBJECTS = {
  allowed: mcpServer({ type: 'stdio', command: 'mcp-local', env }),
  warned: mcpServer({ type: 'streamable-http', url: 'https://mcp.example.com/mcp', headers }),
  denied: mcpServer({ type: 'streamable-http', url: 'http://tools.example.com/mcp', headers }),
} as const;

async function send(what: string, body: string, { path = '/validate', headers = {} }: { path?: string; headers?: Record<string, string> } = {}): Promise<HttpsAnswer> {
  const answer = await server.call({ body, path, headers });
  answers.push({ what, answer });
  return answer;
}

describe('tokens in object headers and env', () => {
  it('appear in no answer, warning, error, log line or metric, whatever path the request takes', async () => {
    // Each object gets the verdict it stands for, so each path is really taken.
    // The env tokens reach the rules that read env: a warning at admission, never the value.
    expect(validate(OBJECTS.allowed, { context: 'admission' })).toMatchObject({ allowed: true, denials: [], warnings: expect.arrayContaining([expect.objectContaining({ rule: 'env-literal-credential' })]) });
    expect(validate(OBJECTS.warned, { context: 'admission' })).toMatchObject({ allowed: true, warnings: expect.arrayContaining([expect.objectContaining({ rule: 'header-literal-credential' })]) });
    expect(validate(OBJECTS.denied, { context: 'admission' }).allowed).toBe(false);

    const review = (object: unknown, overrides: Parameters<typeof admissionReview>[1] = {}): string => JSON.stringify(admissionReview(object, overrides));
    const statuses = {
      allowed: (await send('allowed', review(OBJECTS.allowed))).status,
      warned: (await send('warned', review(OBJECTS.warned))).status,
      denied: (await send('denied', review(OBJECTS.denied))).status,
      dryRun: (await send('dry run', review(OBJECTS.denied, { dryRun: true }))).status,
      update: (await send('update', review(OBJECTS.denied, { operation: 'UPDATE', oldObject: OBJECTS.warned }))).status,
      // Invalid JSON around the tokens, cut after them.
      invalidJson: (await send('invalid JSON', review(OBJECTS.denied).slice(0, -20))).status,
      // A well-formed review with one field wrong, carrying the tokens.
      badOperation: (await send('bad operation', review(OBJECTS.denied, { operation: 'PATCH' as 'CREATE' }))).status,
      badKind: (await send('bad kind', review(OBJECTS.denied).replace('"kind":"AdmissionReview"', `"kind":"${TOKENS.opaque}"`))).status,
      badApiVersion: (await send('bad apiVersion', review(OBJECTS.denied, { apiVersion: TOKENS.jwt as 'admission.k8s.io/v1' }))).status,
      // Too deep for JSON.stringify: this used to be a 500, the one internal error a client could cause.
      deepTerminating: (
        await send(
          'deep terminating update',
          review({ ...OBJECTS.denied, metadata: { name: 'x', namespace: 'muster', deletionTimestamp: '2026-11-26T09:00:00Z' }, spec: '@DEEP@' }, { operation: 'UPDATE', oldObject: OBJECTS.denied }).replace(
            '"@DEEP@"',
            `${'{"a":'.repeat(20_000)}${JSON.stringify(headers)}${'}'.repeat(20_000)}`,
          ),
        )
      ).status,
      wrongType: (await send('wrong content type', review(OBJECTS.denied), { headers: { 'Content-Type': 'text/plain' } })).status,
      verdictRoute: (await send('verdict', JSON.stringify(OBJECTS.denied), { path: '/v1/verdict' })).status,
      verdictRouteMalformed: (await send('verdict malformed', JSON.stringify(OBJECTS.denied).slice(0, -5), { path: '/v1/verdict' })).status,
      tooLarge: await tooLarge(review(OBJECTS.denied)),
    };
    expect(statuses).toEqual({
      allowed: 200,
      warned: 200,
      denied: 200,
      dryRun: 200,
      update: 200,
      invalidJson: 400,
      badOperation: 400,
      badKind: 400,
      badApiVersion: 400,
      deepTerminating: 200,
      wrongType: 415,
      verdictRoute: 200,
      verdictRouteMalformed: 400,
      tooLarge: 413,
    });
    const warned = JSON.parse(answers.find(({ what }) => what === 'warned')?.answer.body ?? '{}');
    expect(warned.response.warnings.length).toBeGreaterThan(0);
    // The rules that read the token-bearing fields did run. The child's log arrives through a
    // pipe, behind the answers when the machine is busy: wait for the decisions of the requests.
    const firedRules = (): string[] => server.child.logs().flatMap((line) => (Array.isArray(line.findings) ? line.findings.map((finding: { rule: string }) => finding.rule) : []));
    for (let waited = 0; waited < 5000 && !firedRules().includes('credential-over-plaintext'); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(firedRules()).toEqual(expect.arrayContaining(['header-literal-credential', 'credential-over-plaintext', 'env-literal-credential']));

    const metrics = await server.metrics();
    expect(await server.stop()).toBe(0);
    const everything = [
      server.child.stdout(),
      server.child.stderr(),
      metrics,
      ...answers.map(({ answer }) => `${JSON.stringify(answer.headers)}\n${answer.body}`),
    ].join('\n');
    for (const [where, token] of Object.entries(TOKENS)) expect(everything.includes(token), `the ${where} token leaked`).toBe(false);
  });
});

/** A body with the tokens in its first bytes, announced as 100 MiB: refused with 413. */
function tooLarge(start: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: HOST, port: server.child.port, ca: server.ca, method: 'POST', path: '/validate', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': 100 * 1024 * 1024 } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          answers.push({ what: 'too large', answer: { status: res.statusCode ?? 0, headers: res.headers, body: text, fingerprint: '' } });
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.write(start);
  });
}
