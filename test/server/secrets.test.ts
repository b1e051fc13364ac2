import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { mcpServer } from '../fixtures.js';
import { httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer, type HttpsAnswer } from './child-server.js';

/** Distinct made-up secrets, one per place a secret can reach the server. */
const SECRETS = {
  env: 'ghp_EnvSecret0000000000000000000000000000',
  envOther: 'AwsSecretFromTheEnvironment1234567890abcd',
  authorizationHeader: 'RequestBearerSecret-7f3a9c1e5b',
  cookieHeader: 'RequestCookieSecret-2d8e4f6a0c',
  apiKeyHeader: 'RequestApiKeySecret-9b1d3f5e7a',
  objectHeader: 'ObjectHeaderSecret-4c6e8a0b2d',
  objectPlaintextHeader: 'ObjectPlaintextSecret-1a3c5e7b9d',
  urlQuery: 'UrlQuerySecret-8f0b2d4c6e',
  issuerPassword: 'IssuerPasswordSecret-5e7a9c1b3d',
  unknownField: 'UnknownFieldSecret-0d2f4b6a8c',
  malformedBody: 'MalformedBodySecret-6b8d0f2a4c',
  reviewField: 'ReviewFieldSecret-3a5c7e9b1d',
  path: 'PathSecret-7c9e1a3b5d',
} as const;

const certs = temporaryDirectory('secrets');
let server: ChildServer;
let ca: string;
const answers: HttpsAnswer[] = [];

beforeAll(async () => {
  server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path], {
    LOG_LEVEL: 'trace',
    GITHUB_TOKEN: SECRETS.env,
    AWS_SECRET_ACCESS_KEY: SECRETS.envOther,
  });
  ca = readText(join(certs.path, 'ca.crt'));
});

afterAll(async () => {
  await server.stop();
  certs.remove();
});

const requestHeaders = {
  Authorization: `Bearer ${SECRETS.authorizationHeader}`,
  Cookie: `session=${SECRETS.cookieHeader}`,
  'X-Api-Key': SECRETS.apiKeyHeader,
};

async function send(body: string, path = '/validate'): Promise<void> {
  answers.push(await httpsCall(server.port, { ca, path, body, headers: requestHeaders }));
}

describe('secrets', () => {
  it('never appear in responses, logs or metrics, whatever path they come in by', async () => {
    await send(JSON.stringify(admissionReview(mcpServer({ type: 'streamable-http', url: 'https://mcp.example.com/mcp', headers: { Authorization: `Bearer ${SECRETS.objectHeader}` } }))));
    await send(JSON.stringify(admissionReview(mcpServer({ type: 'streamable-http', url: 'http://tools.example.com/mcp', headers: { 'X-Auth-Token': SECRETS.objectPlaintextHeader } }))));
    await send(JSON.stringify(admissionReview(mcpServer({ type: 'streamable-http', url: `https://mcp.example.com/mcp?access_token=${SECRETS.urlQuery}`, tokn: SECRETS.unknownField }))));
    await send(
      JSON.stringify(
        admissionReview(mcpServer({ type: 'streamable-http', url: 'https://mcp.example.com/mcp', auth: { type: 'oauth', authorizationServer: { issuer: `https://user:${SECRETS.issuerPassword}@auth.example.com` } } })),
      ),
    );
    await send(`{"apiVersion": "admission.k8s.io/v1", "token": "${SECRETS.malformedBody}"`);
    await send(JSON.stringify({ ...admissionReview(mcpServer({})), apiVersion: SECRETS.reviewField }));
    await send(JSON.stringify({ ...admissionReview(mcpServer({})), request: { uid: 'x', operation: SECRETS.reviewField } }));
    await send('{}', `/${SECRETS.path}`);
    await send('{}', `/validate?token=${SECRETS.path}`);
    answers.push(await httpsCall(server.port, { ca, path: '/metrics', headers: requestHeaders }));

    // The requests did reach the rules that look at the secret-bearing fields.
    const fired = server.logs().flatMap((line) => (Array.isArray(line.findings) ? line.findings.map((finding: { rule: string }) => finding.rule) : []));
    expect(fired).toEqual(expect.arrayContaining(['header-literal-credential', 'credential-over-plaintext', 'authorization-server-issuer']));
    // An unknown field at admission is schema drift: logged by its path, never with its value.
    expect(server.logs().filter((line) => line.event === 'schema-drift').map((line) => line.path)).toEqual(['spec.tokn']);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 400, 400, 400, 404, 400, 200]);

    await server.stop();
    const everything = [server.stdout(), server.stderr(), ...answers.map((answer) => `${JSON.stringify(answer.headers)}\n${answer.body}`)].join('\n');
    for (const [where, secret] of Object.entries(SECRETS)) {
      expect(everything.includes(secret), `the secret from ${where} leaked`).toBe(false);
    }
  });
});
