import { join } from 'node:path';
import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdmissionResponse } from '../../src/admission/review.js';
import { MAX_WARNING_LENGTH } from '../../src/admission/warnings.js';
import { kubectlLines } from '../admission/kubectl-output.js';
import { recordedReviews, type RecordedReview } from '../fixtures.js';
import { httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer } from './child-server.js';

/**
 * Every review a real kube-apiserver (v1.26.0, the upstream CRD and its CEL rules) sent, in
 * test/recorded/reviews/, replayed against the real server over HTTPS with the API server's own
 * headers and query, on one kept-alive connection as the API server keeps it. Each answer is the
 * one expected now: what kubectl would print (`Warning: ...`, `field: message` per cause) and
 * what the decision log records.
 */
interface Expected {
  readonly kubectl: readonly string[];
  /** The decision log's line for the request. */
  readonly decision: 'allowed' | 'denied' | 'skipped';
  readonly skipReason?: string;
  /** Findings the log must mark as let through because they were already there. */
  readonly ratcheted?: readonly string[];
}

const PLACEHOLDER_CAUSE = 'still holds an angle-bracket placeholder such as <token>, and Muster sends headers verbatim: make the pipeline substitute the real value before applying [header-unresolved-placeholder]';
const OVERRIDE_WARNING = 'Warning: spec.auth.authorizationServer: skips RFC 9728 discovery: review once [authorization-server-override]';
const PLAINTEXT_WARNING = 'Warning: spec.url: sends MCP traffic unencrypted: use https:// [plaintext-url]';
const allowed = (...kubectl: string[]): Expected => ({ kubectl, decision: 'allowed' });
const skipped = (skipReason: string): Expected => ({ kubectl: [], decision: 'skipped', skipReason });

const EXPECTED: Readonly<Record<string, Expected>> = {
  '001-CREATE-atlassian.json': allowed(OVERRIDE_WARNING),
  '002-CREATE-mcp-kubernetes-gazelle.json': allowed(),
  '003-CREATE-internal-search.json': allowed(PLAINTEXT_WARNING),
  '004-CREATE-example-api.json': allowed(),
  '005-CREATE-kubernetes.json': allowed(),
  '006-CREATE-mcp-kubernetes-grizzly.json': allowed(),
  '007-CREATE-vendor-tools.json': { decision: 'denied', kubectl: [`The MCPServer "vendor-tools" is invalid: spec.headers[Authorization]: ${PLACEHOLDER_CAUSE}`] },
  // Refused by the CRD's CEL rules in a real cluster before any webhook; this one is not a CEL rule.
  '008-CREATE-stdio-with-oauth.json': {
    decision: 'denied',
    kubectl: [
      'The MCPServer "stdio-with-oauth" is invalid: spec.auth.type: is oauth, but Muster supports authentication only for streamable-http and sse servers and refuses it on stdio: remove spec.auth, or make this a remote server [auth-remote-only]',
    ],
  },
  '009-CREATE-override-in-use.json': allowed(OVERRIDE_WARNING),
  '010-CREATE-token-over-http.json': {
    decision: 'denied',
    kubectl: [
      PLAINTEXT_WARNING,
      'The MCPServer "token-over-http" is invalid:',
      '* spec.headers[Authorization]: still holds a variable reference ${...}, and Muster sends headers verbatim: make the pipeline substitute the real value before applying [header-unresolved-placeholder]',
      '* spec.url: sends the Authorization header over plain http:// to tools.vendor.example.com, outside the cluster, where anyone on the path can read it: use https:// [credential-over-plaintext]',
    ],
  },
  '011-CREATE-forwarding-and-exchange.json': allowed('Warning: spec.auth.forwardToken: does nothing with token exchange on: drop one [forward-token-with-token-exchange]'),
  '012-CREATE-duplicate-header.json': {
    decision: 'denied',
    kubectl: ['The MCPServer "duplicate-header" is invalid: spec.headers[x-tenant]: is the same HTTP header as spec.headers[X-Tenant], and which one is sent is undefined: keep one [header-duplicate-name]'],
  },
  '013-CREATE-committed-token.json': allowed('Warning: spec.headers[X-API-Key]: holds a secret in plain text: inject it [header-literal-credential]'),
  '014-CREATE-bad-header-name.json': {
    decision: 'denied',
    kubectl: ['The MCPServer "bad-header-name" is invalid: spec.headers[X Tenant]: is not a valid HTTP header name, so requests to the server would fail: use letters, digits and - only [header-syntax]'],
  },
  '015-CREATE-unresolved-token.json': {
    decision: 'denied',
    kubectl: [
      'The MCPServer "unresolved-token" is invalid: spec.headers[Authorization]: still holds a variable reference ${...}, and Muster sends headers verbatim: make the pipeline substitute the real value before applying [header-unresolved-placeholder]',
    ],
  },
  '016-CREATE-plain-http.json': allowed(PLAINTEXT_WARNING),
  '017-CREATE-audiences-without-forwarding.json': allowed('Warning: spec.auth.requiredAudiences: is unused: no forwardToken or token exchange [required-audiences-unused]'),
  // The API server filled in `scopes` (a default): it is not reported as set.
  '018-CREATE-exchange-configured-not-enabled.json': allowed('Warning: spec.auth.tokenExchange.enabled: is off: enable it or remove the block [token-exchange-disabled-fields]'),
  '019-CREATE-exchange-without-endpoint.json': {
    decision: 'denied',
    kubectl: [
      'The MCPServer "exchange-without-endpoint" is invalid:',
      '* spec.auth.tokenExchange.connectorId: is required when token exchange is enabled: set it to the ID of the OIDC connector on the remote Dex that trusts this cluster, e.g. cluster-a-dex [token-exchange-required-fields]',
      "* spec.auth.tokenExchange.dexTokenEndpoint: is required when token exchange is enabled: set it to the remote Dex's token endpoint, e.g. https://dex.cluster-b.example.com/token [token-exchange-required-fields]",
    ],
  },
  // A server-side dry run gets the real answer.
  '020-CREATE-dryrun-bad-header-name.json': {
    decision: 'denied',
    kubectl: ['The MCPServer "bad-header-name" is invalid: spec.headers[X Tenant]: is not a valid HTTP header name, so requests to the server would fail: use letters, digits and - only [header-syntax]'],
  },
  // Server-side apply moving kubectl's managed fields: nothing to say.
  '021-UPDATE-mcp-kubernetes-gazelle.json': allowed(),
  '022-UPDATE-mcp-kubernetes-gazelle.json': allowed(),
  '023-UPDATE-mcp-kubernetes-gazelle.json': allowed(),
  '024-UPDATE-mcp-kubernetes-gazelle.json': allowed(),
  // A label, an annotation, a finalizer: the override warning was shown at creation, not again.
  '025-UPDATE-atlassian.json': allowed(),
  '026-UPDATE-atlassian.json': allowed(),
  '027-UPDATE-atlassian.json': allowed(),
  '028-DELETE-atlassian.json': skipped('operation'),
  // The finalizer removed from an object being deleted, spec untouched.
  '029-UPDATE-atlassian.json': skipped('terminating'),
  '030-UPDATE-status-example-api.json': skipped('subresource'),
  '031-CREATE-vendor-tools.json': { decision: 'denied', kubectl: [`The MCPServer "vendor-tools" is invalid: spec.headers[Authorization]: ${PLACEHOLDER_CAUSE}`] },
  // `kubectl label` on an object that predates the webhook: let through, and not repeated.
  '032-UPDATE-vendor-tools.json': { decision: 'allowed', kubectl: [], ratcheted: ['header-unresolved-placeholder@spec.headers[Authorization]'] },
  '033-DELETE-vendor-tools.json': skipped('operation'),
  '034-CREATE-v1beta1-sample.json': allowed(),
};

const certs = temporaryDirectory('recorded');
let server: ChildServer;
let ca: string;
// One kept-alive connection, as the API server keeps it.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

beforeAll(async () => {
  server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path]);
  ca = readText(join(certs.path, 'ca.crt'));
});

afterAll(async () => {
  agent.destroy();
  await server.stop();
  certs.remove();
});

async function replay({ headers, review }: RecordedReview): Promise<{ apiVersion: string; response: AdmissionResponse & { uid: string } }> {
  // The API server's own headers, less those node:https sets for the body it sends.
  const { 'content-length': _length, ...sent } = headers;
  const answer = await httpsCall(server.port, { ca, agent, path: '/validate?timeout=5s', body: JSON.stringify(review), headers: sent });
  expect(answer.status).toBe(200);
  return JSON.parse(answer.body) as { apiVersion: string; response: AdmissionResponse & { uid: string } };
}

describe('the reviews a real API server sent', () => {
  const reviews = recordedReviews();

  it('are all here, with an expected answer each', () => {
    expect(reviews.map((review) => review.file)).toEqual(Object.keys(EXPECTED));
  });

  it.each(reviews.map((review) => [review.file, review] as const))('%s', async (file, recorded) => {
    const expected = EXPECTED[file]!;
    const { apiVersion, response } = await replay(recorded);
    expect(apiVersion).toBe(recorded.review.apiVersion);
    expect(response.uid).toBe(recorded.review.request.uid);
    expect(kubectlLines(response)).toEqual(expected.kubectl);
    expect(response.allowed).toBe(expected.decision !== 'denied');

    // kubectl prints `field: message`: no cause may name its field again, and every warning is whole and short.
    for (const cause of response.status?.details?.causes ?? []) expect((cause.message ?? '').startsWith(cause.field ?? '\u0000')).toBe(false);
    for (const warning of response.warnings ?? []) expect(warning.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);

    const line = await server.waitForLog((candidate) => candidate.event === 'admission' && candidate.uid === recorded.review.request.uid);
    expect(line.decision).toBe(expected.decision);
    expect(line.skipReason).toBe(expected.skipReason);
    expect(line.dryRun).toBe(recorded.review.request.dryRun === true);
    const findings = (line.findings ?? []) as { rule: string; path: string; ratcheted?: boolean }[];
    expect(findings.filter((finding) => finding.ratcheted).map((finding) => `${finding.rule}@${finding.path}`)).toEqual(expected.ratcheted ?? []);
  });
});
