import { describe, expect, it } from 'vitest';
import { RULES, validate, type Context, type Verdict } from '../../src/engine/index.js';
import { mcpServer, remote, stdio } from '../fixtures.js';

const GITHUB_TOKEN = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIiwiYXVkIjoibXVzdGVyIn0.c2lnbmF0dXJlLXZhbHVl';

interface Case {
  readonly rule: string;
  /** Objects the rule must pass without a finding. */
  readonly passes: readonly Record<string, unknown>[];
  /** Objects on which the rule fires, with the field path it must name. */
  readonly fires: readonly { readonly object: Record<string, unknown>; readonly path: string }[];
}

const override = { type: 'oauth', authorizationServer: { issuer: 'https://auth.atlassian.com' } };

const CASES: readonly Case[] = [
  {
    rule: 'schema-violation',
    passes: [remote(), stdio(), remote({ timeout: 300, description: 'x'.repeat(500) })],
    fires: [
      { object: remote({ timeout: 0 }), path: 'spec.timeout' },
      { object: remote({ timeout: 301 }), path: 'spec.timeout' },
      { object: remote({ timeout: '30' }), path: 'spec.timeout' },
      { object: remote({ description: 'x'.repeat(501) }), path: 'spec.description' },
      { object: mcpServer({ type: 'http', url: 'https://a.example.com' }), path: 'spec.type' },
      { object: mcpServer({ url: 'https://a.example.com' }), path: 'spec.type' },
      { object: remote({ url: 'ftp://a.example.com' }), path: 'spec.url' },
      { object: remote({ toolPrefix: '1tools' }), path: 'spec.toolPrefix' },
      { object: remote({ family: { name: 'k8s' } }), path: 'spec.family.instanceArg' },
      { object: remote({ family: { name: 'k8s', instanceArg: 'bad-arg' } }), path: 'spec.family.instanceArg' },
      { object: remote({ headers: { 'X-Count': 5 } }), path: 'spec.headers[X-Count]' },
      { object: remote({ auth: { type: 'basic' } }), path: 'spec.auth.type' },
      {
        object: remote({ auth: { type: 'oauth', tokenExchange: { enabled: true, dexTokenEndpoint: 'http://dex.example.com/token', connectorId: 'a' } } }),
        path: 'spec.auth.tokenExchange.dexTokenEndpoint',
      },
      {
        object: remote({ auth: { type: 'oauth', tokenExchange: { clientCredentialsSecretRef: { clientIdKey: 'id' } } } }),
        path: 'spec.auth.tokenExchange.clientCredentialsSecretRef.name',
      },
      { object: { ...remote(), apiVersion: 'muster.giantswarm.io/v1' }, path: 'apiVersion' },
      { object: { ...remote(), metadata: { namespace: 'muster' } }, path: 'metadata.name' },
      { object: { ...remote(), metadata: { name: 'Upper_Case' } }, path: 'metadata.name' },
    ],
  },
  {
    rule: 'unknown-field',
    passes: [remote({ auth: { type: 'oauth', forwardToken: true } })],
    fires: [
      { object: remote({ forwardtoken: true }), path: 'spec.forwardtoken' },
      { object: remote({ auth: { type: 'oauth', issuer: 'https://a.example.com' } }), path: 'spec.auth.issuer' },
      // As JSON.parse makes it from a request body: an own property, not the prototype.
      { object: remote(JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>), path: 'spec.__proto__' },
    ],
  },
  {
    rule: 'stdio-command-required',
    passes: [stdio(), remote()],
    fires: [{ object: mcpServer({ type: 'stdio', args: ['x'] }), path: 'spec.command' }],
  },
  {
    rule: 'remote-url-required',
    passes: [remote(), stdio()],
    fires: [
      { object: mcpServer({ type: 'sse' }), path: 'spec.url' },
      { object: mcpServer({ type: 'streamable-http', url: '' }), path: 'spec.url' },
    ],
  },
  {
    rule: 'args-stdio-only',
    passes: [stdio({ args: ['serve'] }), remote()],
    fires: [{ object: remote({ args: [] }), path: 'spec.args' }],
  },
  {
    rule: 'headers-remote-only',
    passes: [remote({ headers: { 'X-Tenant': 'acme' } }), stdio()],
    fires: [{ object: stdio({ headers: {} }), path: 'spec.headers' }],
  },
  {
    rule: 'auth-remote-only',
    passes: [stdio({ auth: { type: 'none' } }), remote({ auth: { type: 'oauth' } })],
    fires: [
      { object: stdio({ auth: { type: 'oauth' } }), path: 'spec.auth' },
      { object: stdio({ auth: { forwardToken: true } }), path: 'spec.auth' },
    ],
  },
  {
    rule: 'authorization-server-oauth-only',
    passes: [remote({ auth: override })],
    fires: [
      { object: remote({ auth: { authorizationServer: { issuer: 'https://auth.atlassian.com' } } }), path: 'spec.auth.authorizationServer' },
      { object: remote({ auth: { ...override, type: 'none' } }), path: 'spec.auth.authorizationServer' },
    ],
  },
  {
    rule: 'authorization-server-forward-token-conflict',
    passes: [remote({ auth: override }), remote({ auth: { ...override, forwardToken: false } })],
    fires: [{ object: remote({ auth: { ...override, forwardToken: true } }), path: 'spec.auth.authorizationServer' }],
  },
  {
    rule: 'authorization-server-token-exchange-conflict',
    passes: [remote({ auth: { ...override, tokenExchange: { enabled: false } } })],
    fires: [
      {
        object: remote({ auth: { ...override, tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.example.com/token', connectorId: 'a' } } }),
        path: 'spec.auth.authorizationServer',
      },
    ],
  },
  {
    rule: 'authorization-server-issuer',
    passes: [remote({ auth: override }), remote({ auth: { type: 'oauth', authorizationServer: { issuer: 'https://login.example.com/tenant/v2.0' } } })],
    fires: [
      'https://auth.atlassian.com/',
      'http://auth.atlassian.com',
      'https://auth.atlassian.com?x=1',
      'https://auth.atlassian.com#frag',
      'https://user:pass@auth.atlassian.com',
      'auth.atlassian.com',
      '',
    ].map((issuer) => ({
      object: remote({ auth: { type: 'oauth', authorizationServer: { issuer } } }),
      path: 'spec.auth.authorizationServer.issuer',
    })).concat([{ object: remote({ auth: { type: 'oauth', authorizationServer: {} } }), path: 'spec.auth.authorizationServer.issuer' }]),
  },
  {
    rule: 'token-exchange-required-fields',
    passes: [
      remote({ auth: { type: 'oauth', tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.example.com/token', connectorId: 'a' } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { enabled: false } } }),
    ],
    fires: [
      { object: remote({ auth: { type: 'oauth', tokenExchange: { enabled: true, connectorId: 'a' } } }), path: 'spec.auth.tokenExchange.dexTokenEndpoint' },
      {
        object: remote({ auth: { type: 'oauth', tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.example.com/token' } } }),
        path: 'spec.auth.tokenExchange.connectorId',
      },
    ],
  },
  {
    rule: 'header-unresolved-placeholder',
    passes: [remote({ headers: { Authorization: `Bearer ${GITHUB_TOKEN}`, 'X-Tenant': 'xxx' } })],
    fires: [
      'Bearer <token>',
      'Bearer ${VENDOR_TOKEN}',
      'Bearer $(VENDOR_TOKEN)',
      'Bearer {{ .Values.token }}',
      'Bearer $VENDOR_TOKEN',
      'REPLACE_ME',
      'Bearer changeme',
      'your-token-here',
      'xxx',
    ].map((value) => ({ object: remote({ headers: { Authorization: value } }), path: 'spec.headers[Authorization]' }))
      .concat([{ object: remote({ headers: { 'X-Tenant': '${TENANT}' } }), path: 'spec.headers[X-Tenant]' }]),
  },
  {
    rule: 'header-literal-credential',
    passes: [remote({ headers: { Authorization: 'Bearer <token>', 'X-Tenant': 'acme', 'X-Request-Source': 'muster' } })],
    fires: [
      { object: remote({ headers: { Authorization: 'Bearer 4f9c2a7e1b3d8f6a' } }), path: 'spec.headers[Authorization]' },
      { object: remote({ headers: { 'X-Auth-Token': 's3cr3t-value' } }), path: 'spec.headers[X-Auth-Token]' },
      { object: remote({ headers: { Cookie: 'session=abc123' } }), path: 'spec.headers[Cookie]' },
      { object: remote({ headers: { 'X-Forwarded-For': GITHUB_TOKEN } }), path: 'spec.headers[X-Forwarded-For]' },
      { object: remote({ headers: { 'X-Debug': JWT } }), path: 'spec.headers[X-Debug]' },
      { object: remote({ headers: { 'X-Key-Id': 'AKIAIOSFODNN7EXAMPLE' } }), path: 'spec.headers[X-Key-Id]' },
      { object: remote({ headers: { 'X-Ai': 'sk-proj-abcdefghijklmnopqrstuvwx' } }), path: 'spec.headers[X-Ai]' },
      { object: remote({ headers: { 'X-Chat': 'xoxb-123456789012-abcdefghij' } }), path: 'spec.headers[X-Chat]' },
      { object: remote({ headers: { 'X-Gl': 'glpat-abcdefghij0123456789' } }), path: 'spec.headers[X-Gl]' },
    ],
  },
  {
    rule: 'credential-over-plaintext',
    passes: [
      remote({ headers: { Authorization: 'Bearer <token>' } }),
      ...['http://mcp-kubernetes:8080/mcp', 'http://mcp.tools.svc:8080/mcp', 'http://mcp.tools.svc.cluster.local/mcp', 'http://localhost:9000/mcp', 'http://127.0.0.1/mcp', 'http://[::1]:8080/mcp'].map(
        (url) => remote({ url, headers: { Authorization: 'Bearer abc' }, auth: { type: 'oauth', forwardToken: true } }),
      ),
      remote({ url: 'http://tools.example.com/mcp', headers: { 'X-Tenant': 'acme' } }),
    ],
    fires: [
      { object: remote({ url: 'http://tools.example.com/mcp', headers: { Authorization: 'Bearer <token>' } }), path: 'spec.url' },
      { object: remote({ url: 'http://10.0.0.12:8080/mcp', headers: { 'X-API-Key': 'abc' } }), path: 'spec.url' },
      { object: remote({ url: 'http://tools.example.com/mcp', auth: { type: 'oauth' } }), path: 'spec.url' },
      { object: remote({ url: 'http://tools.example.com/mcp', auth: { forwardToken: true } }), path: 'spec.url' },
      { object: remote({ url: 'http://tools.example.com/mcp', headers: { 'X-Trace': JWT } }), path: 'spec.url' },
    ],
  },
  {
    rule: 'header-syntax',
    passes: [remote({ headers: { 'X-Tenant': 'acme', "Weird!#$%&'*+.^_`|~": 'value with spaces\tand tab' } })],
    fires: [
      { object: remote({ headers: { 'X Tenant': 'acme' } }), path: 'spec.headers[X Tenant]' },
      { object: remote({ headers: { 'X-Tenant:': 'acme' } }), path: 'spec.headers[X-Tenant:]' },
      { object: remote({ headers: { 'X-Tenant': 'acme\r\nX-Injected: yes' } }), path: 'spec.headers[X-Tenant]' },
    ],
  },
  {
    rule: 'header-duplicate-name',
    passes: [remote({ headers: { 'X-Tenant': 'acme', 'X-Tenant-Id': '1' } })],
    fires: [{ object: remote({ headers: { 'X-Tenant': 'a', 'x-tenant': 'b' } }), path: 'spec.headers[x-tenant]' }],
  },
  {
    rule: 'required-audiences-without-forward-token',
    passes: [remote({ auth: { type: 'oauth', forwardToken: true, requiredAudiences: ['dex-k8s-authenticator'] } })],
    fires: [{ object: remote({ auth: { type: 'oauth', requiredAudiences: ['a'] } }), path: 'spec.auth.requiredAudiences' }],
  },
  {
    rule: 'token-exchange-disabled-fields',
    passes: [remote({ auth: { type: 'oauth', tokenExchange: { enabled: false } } })],
    fires: [{ object: remote({ auth: { type: 'oauth', tokenExchange: { connectorId: 'a' } } }), path: 'spec.auth.tokenExchange.enabled' }],
  },
  {
    rule: 'forward-token-with-token-exchange',
    passes: [remote({ auth: { type: 'oauth', forwardToken: true } })],
    fires: [
      {
        object: remote({
          auth: { type: 'oauth', forwardToken: true, tokenExchange: { enabled: true, dexTokenEndpoint: 'https://dex.example.com/token', connectorId: 'a' } },
        }),
        path: 'spec.auth.forwardToken',
      },
    ],
  },
  {
    rule: 'authorization-server-override',
    passes: [remote({ auth: { type: 'oauth' } })],
    fires: [{ object: remote({ auth: override }), path: 'spec.auth.authorizationServer' }],
  },
  {
    rule: 'plaintext-url',
    passes: [remote(), stdio({ url: 'http://ignored.example.com' })],
    fires: [{ object: remote({ url: 'http://mcp-search:8080/sse' }), path: 'spec.url' }],
  },
];

function findingsOf(verdict: Verdict, rule: string) {
  return [...verdict.denials, ...verdict.warnings, ...verdict.audits].filter((finding) => finding.rule === rule);
}

describe('rule catalogue', () => {
  it('has a case for every rule, and every rule has a stable kebab-case ID, a description and a fix', () => {
    expect(CASES.map((c) => c.rule).sort()).toEqual(RULES.map((rule) => rule.id).sort());
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^[a-z]+(-[a-z0-9]+)*$/);
      expect(rule.description.length).toBeGreaterThan(10);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  for (const { rule, passes, fires } of CASES) {
    describe(rule, () => {
      const defaults = RULES.find((candidate) => candidate.id === rule)?.defaults;
      it.each(passes.map((object, index) => [index, object] as const))('passes good object %i', (_, object) => {
        for (const context of ['manifest', 'admission'] as Context[]) {
          expect(findingsOf(validate(object, { context }), rule)).toEqual([]);
        }
      });
      it.each(fires.map(({ object, path }, index) => [index, path, object] as const))('fires on bad object %i at %s', (_, path, object) => {
        for (const context of ['manifest', 'admission'] as Context[]) {
          const verdict = validate(object, { context });
          const findings = findingsOf(verdict, rule);
          const expectedAction = defaults?.[context];
          if (expectedAction === 'off') continue;
          expect(findings.map((finding) => finding.path)).toContain(path);
          for (const finding of findings) {
            expect(finding.action).toBe(expectedAction);
            // A message stands alone: it names the field it is about.
            expect(finding.message).toContain(finding.path);
          }
          expect(verdict.allowed).toBe(verdict.denials.length === 0);
        }
      });
    });
  }
});
