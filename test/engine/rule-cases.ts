import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { Fleet } from '../../src/engine/fleet.js';
import { MCPServerSchema } from '../../src/engine/index.js';
import { mcpServer, remote, repositoryFile, stdio } from '../fixtures.js';
import { DUMMY_VALUES, PLACEHOLDER_VALUES, generatedOpaqueSecret, generatedTokens } from './generated-tokens.js';

/**
 * For every rule, objects it must pass and objects it must fire on, with the field it must name.
 * Shared by the rule tests and the tests of the texts people see (warnings within 120 characters).
 */
export const GITHUB_TOKEN = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
export const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIiwiYXVkIjoibXVzdGVyIn0.c2lnbmF0dXJlLXZhbHVl';

export interface RuleCase {
  readonly rule: string;
  /** For a rule that looks across objects: the other MCPServers in view (and the Secrets that exist). */
  readonly fleet?: Fleet;
  /** For a rule that speaks for the CRD in use: that CRD's schema (else the bundled one). */
  readonly schema?: MCPServerSchema;
  /** Objects the rule must pass without a finding. */
  readonly passes: readonly Record<string, unknown>[];
  /** Objects on which the rule fires, with the field path it must name. */
  readonly fires: readonly { readonly object: Record<string, unknown>; readonly path: string }[];
}

/** A fleet of the given MCPServers, each known by its name, and the Secrets (`namespace/name`) that exist. */
export function fleetOf(objects: readonly Record<string, unknown>[], secrets?: readonly string[]): Fleet {
  return new Fleet(
    objects.map((object) => ({ id: String((object.metadata as { name: string }).name), object })),
    secrets ? { has: (namespace: string, name: string) => secrets.includes(`${namespace}/${name}`) } : undefined,
  );
}

const named = (name: string, object: Record<string, unknown>): Record<string, unknown> => ({ ...object, metadata: { ...(object.metadata as object), name } });

const override = { type: 'oauth', authorizationServer: { issuer: 'https://auth.atlassian.com' } };
const exchange = { dexTokenEndpoint: 'https://dex.cluster-b.example.com/token', connectorId: 'cluster-a-dex' };

/**
 * The bundled CRD with two CEL rules more on spec, as a newer Muster might ship: one no rule of
 * ours stands for, and one calling a Kubernetes CEL library function this checker lacks.
 */
function crdWithNewCelRules(): MCPServerSchema {
  const crd = load(readFileSync(repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml'), 'utf8')) as {
    spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[] };
  };
  const spec = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec;
  spec['x-kubernetes-validations'] = [{ rule: "self.type != 'sse'", message: 'sse is deprecated, use streamable-http', fieldPath: '.type' }];
  const auth = (spec.properties as Record<string, Record<string, unknown[]>>).auth!;
  auth['x-kubernetes-validations'] = [...auth['x-kubernetes-validations']!, { rule: '!has(self.authorizationServer) || isURL(self.authorizationServer.issuer)', message: 'issuer must be a URL' }];
  return MCPServerSchema.fromCrd(crd, 'newer-crd.yaml');
}
const newerCrd = crdWithNewCelRules();

export const CASES: readonly RuleCase[] = [
  {
    rule: 'crd-cel-rule',
    schema: newerCrd,
    passes: [remote(), stdio()],
    fires: [
      { object: remote({ type: 'sse' }), path: 'spec.type' },
    ],
  },
  {
    rule: 'crd-cel-unchecked',
    schema: newerCrd,
    passes: [stdio(), remote()],
    fires: [
      { object: remote({ auth: { type: 'oauth' } }), path: 'spec.auth' },
      { object: mcpServer({ type: 'http', url: 'https://a.example.com' }), path: '' },
    ],
  },
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
      { object: remote({ toolprefix: 'jira' }), path: 'spec.toolprefix' },
      { object: { ...remote({ name: 'jira' }), metadata: { namespace: 'muster' } }, path: 'spec.name' },
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
    // Upstream accepts auth on stdio unless its type is set to something other than none.
    passes: [stdio({ auth: { type: 'none' } }), remote({ auth: { type: 'oauth' } }), stdio({ auth: { type: 'none', forwardToken: true } }), stdio({ auth: { forwardToken: true } })],
    fires: [{ object: stdio({ auth: { type: 'oauth' } }), path: 'spec.auth.type' }],
  },
  {
    rule: 'auth-ignored-for-stdio',
    passes: [stdio({ auth: { type: 'none' } }), remote({ auth: { forwardToken: true } }), stdio({ auth: { type: 'oauth', forwardToken: true } })],
    fires: [
      { object: stdio({ auth: { type: 'none', forwardToken: true } }), path: 'spec.auth' },
      { object: stdio({ auth: { tokenExchange: { ...exchange, enabled: true } } }), path: 'spec.auth' },
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
    passes: [remote({ headers: { Authorization: `Bearer ${GITHUB_TOKEN}`, 'X-Tenant': 'xxx', 'X-Empty': '' } })],
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
      // What envsubst leaves of an unset variable, and a Windows-style reference.
      'Bearer ',
      'Bearer',
      '',
      'Bearer %VENDOR_TOKEN%',
    ].map((value) => ({ object: remote({ headers: { Authorization: value } }), path: 'spec.headers[Authorization]' }))
      .concat([{ object: remote({ headers: { 'X-API-Key': '' } }), path: 'spec.headers[X-API-Key]' }])
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
    rule: 'header-dummy-credential',
    passes: [remote({ headers: { Authorization: `Bearer ${GITHUB_TOKEN}`, 'X-Tenant': 'test-tenant', 'X-API-Key': '${API_KEY}' } })],
    fires: DUMMY_VALUES.map((value) => ({ object: remote({ headers: { Authorization: value } }), path: 'spec.headers[Authorization]' })),
  },
  {
    rule: 'env-literal-credential',
    passes: [stdio({ env: { GITHUB_PERSONAL_ACCESS_TOKEN: '${GITHUB_TOKEN}', LOG_LEVEL: 'debug', API_KEY: 'your-api-key', SLACK_TOKEN: 'test-token' } })],
    fires: [
      ...generatedTokens().map(({ value }) => ({ object: stdio({ env: { SOME_SETTING: value } }), path: 'spec.env[SOME_SETTING]' })),
      { object: stdio({ env: { VENDOR_API_KEY: generatedOpaqueSecret() } }), path: 'spec.env[VENDOR_API_KEY]' },
      { object: remote({ env: { GITHUB_TOKEN } }), path: 'spec.env[GITHUB_TOKEN]' },
    ],
  },
  {
    rule: 'env-unresolved-placeholder',
    passes: [stdio({ env: { GITHUB_TOKEN, LOG_LEVEL: '', DEBUG: 'true' } })],
    fires: [
      ...PLACEHOLDER_VALUES.map((value) => ({ object: stdio({ env: { OPENAI_API_KEY: value } }), path: 'spec.env[OPENAI_API_KEY]' })),
      { object: stdio({ env: { WORKSPACE: '${HOME}/work' } }), path: 'spec.env[WORKSPACE]' },
    ],
  },
  {
    rule: 'env-dummy-credential',
    passes: [stdio({ env: { GITHUB_TOKEN, LOG_LEVEL: 'test', DB_PASSWORD: '${DB_PASSWORD}' } })],
    fires: DUMMY_VALUES.map((value) => ({ object: stdio({ env: { DB_PASSWORD: value } }), path: 'spec.env[DB_PASSWORD]' })),
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
    rule: 'required-audiences-unused',
    passes: [
      remote({ auth: { type: 'oauth', forwardToken: true, requiredAudiences: ['dex-k8s-authenticator'] } }),
      // Token exchange adds the audiences to its scopes (internal/api/token_exchange.go).
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true }, requiredAudiences: ['dex-k8s-authenticator'] } }),
    ],
    fires: [
      { object: remote({ auth: { type: 'oauth', requiredAudiences: ['a'] } }), path: 'spec.auth.requiredAudiences' },
      // Enabled, but without a connector Muster does not exchange (ShouldUseTokenExchange).
      { object: remote({ auth: { type: 'oauth', tokenExchange: { enabled: true, dexTokenEndpoint: exchange.dexTokenEndpoint }, requiredAudiences: ['a'] } }), path: 'spec.auth.requiredAudiences' },
    ],
  },
  {
    rule: 'required-audiences-format',
    passes: [remote({ auth: { type: 'oauth', forwardToken: true, requiredAudiences: ['dex-k8s-authenticator', 'valid_audience_2', 'A-1'] } })],
    fires: [
      ...['invalid audience', 'special@char', 'newline\naudience', '', 'x'.repeat(257)].map((audience) => ({
        object: remote({ auth: { type: 'oauth', forwardToken: true, requiredAudiences: ['ok', audience] } }),
        path: 'spec.auth.requiredAudiences[1]',
      })),
      {
        object: remote({ auth: { type: 'oauth', forwardToken: true, requiredAudiences: Array.from({ length: 51 }, (_, index) => `aud-${index}`) } }),
        path: 'spec.auth.requiredAudiences',
      },
    ],
  },
  {
    rule: 'expected-issuer-required',
    passes: [
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, dexTokenEndpoint: 'https://dex.example.com/dex/token' } } }),
      // Muster derives exactly the host from a bare host.
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, dexTokenEndpoint: 'https://dex.example.com' } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, dexTokenEndpoint: 'https://proxy.example.com/exchange', expectedIssuer: 'https://dex.example.com' } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: false, dexTokenEndpoint: 'https://proxy.example.com/exchange' } } }),
    ],
    fires: ['https://proxy.example.com/exchange', 'https://dex.example.com/token/', 'https://dex.example.com/token?tenant=a', 'https://dex.example.com/token#top'].map((dexTokenEndpoint) => ({
      object: remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, dexTokenEndpoint } } }),
      path: 'spec.auth.tokenExchange.expectedIssuer',
    })),
  },
  {
    rule: 'env-ignored-for-remote',
    passes: [stdio({ env: { KUBECONFIG: '/k' } }), remote()],
    fires: [{ object: remote({ env: { API_TOKEN: 'x' } }), path: 'spec.env' }],
  },
  {
    rule: 'headers-ignored-per-user',
    passes: [remote({ headers: { 'X-Tenant': 'acme' } }), remote({ auth: { type: 'oauth' } }), remote({ headers: { 'X-Tenant': 'acme' }, auth: { type: 'none', forwardToken: false } })],
    fires: [
      { object: remote({ headers: { 'X-Tenant': 'acme' }, auth: { type: 'oauth' } }), path: 'spec.headers' },
      { object: remote({ headers: { 'X-Tenant': 'acme' }, auth: { forwardToken: true } }), path: 'spec.headers' },
      { object: remote({ headers: { 'X-Tenant': 'acme' }, auth: { tokenExchange: { ...exchange, enabled: true } } }), path: 'spec.headers' },
    ],
  },
  {
    rule: 'sse-with-per-user-auth',
    passes: [mcpServer({ type: 'sse', url: 'https://mcp.example.com/sse' }), remote({ auth: { type: 'oauth' } })],
    fires: [
      { object: mcpServer({ type: 'sse', url: 'https://mcp.example.com/sse', auth: { type: 'oauth' } }), path: 'spec.type' },
      { object: mcpServer({ type: 'sse', url: 'https://mcp.example.com/sse', auth: { forwardToken: true } }), path: 'spec.type' },
    ],
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
    passes: [remote(), stdio({ url: 'http://ignored.example.com' }), ...['http://localhost:18080/mcp', 'http://127.0.0.1:9000/sse', 'http://[::1]:8080/mcp', 'http://mcp.localhost/mcp'].map((url) => remote({ url }))],
    fires: [
      { object: remote({ url: 'http://mcp-search:8080/sse' }), path: 'spec.url' },
      { object: remote({ url: 'http://128.0.0.1/mcp' }), path: 'spec.url' },
      { object: remote({ url: 'http://localhost.example.com/mcp' }), path: 'spec.url' },
    ],
  },
  {
    rule: 'family-consistency',
    fleet: fleetOf([
      named('mcp-kubernetes-a', remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } })),
      named('mcp-kubernetes-b', remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } })),
      { ...named('elsewhere', remote({ family: { name: 'kubernetes', instanceArg: 'cluster' } })), metadata: { name: 'elsewhere', namespace: 'other' } },
    ]),
    passes: [
      remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } }),
      remote({ family: { name: 'grafana', instanceArg: 'cluster' } }),
      remote(),
      // Its own stored version, on an UPDATE, is not another member.
      named('mcp-kubernetes-a', remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } })),
    ],
    fires: [{ object: remote({ family: { name: 'kubernetes', instanceArg: 'cluster' } }), path: 'spec.family.instanceArg' }],
  },
  {
    rule: 'tool-prefix-collision',
    fleet: fleetOf([
      named('github', remote()),
      named('jira-cloud', remote({ toolPrefix: 'jira' })),
      named('mcp-kubernetes-a', remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } })),
    ]),
    passes: [
      remote({ toolPrefix: 'gitlab' }),
      named('confluence', remote()),
      remote({ family: { name: 'kubernetes', instanceArg: 'management_cluster' } }),
      named('github', remote()),
    ],
    fires: [
      { object: remote({ toolPrefix: 'github' }), path: 'spec.toolPrefix' },
      { object: named('jira', remote()), path: 'spec.toolPrefix' },
      { object: remote({ toolPrefix: 'kubernetes' }), path: 'spec.toolPrefix' },
      { object: remote({ family: { name: 'jira', instanceArg: 'site' } }), path: 'spec.family.name' },
    ],
  },
  {
    rule: 'referenced-secret',
    fleet: fleetOf([], ['muster/grizzly-credentials', 'shared/grizzly-credentials']),
    passes: [
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, clientCredentialsSecretRef: { name: 'grizzly-credentials' } } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: false, clientCredentialsSecretRef: { name: 'missing' } } } }),
      remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true } } }),
    ],
    fires: [
      { object: remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, clientCredentialsSecretRef: { name: 'missing' } } } }), path: 'spec.auth.tokenExchange.clientCredentialsSecretRef.name' },
      {
        object: remote({ auth: { type: 'oauth', tokenExchange: { ...exchange, enabled: true, clientCredentialsSecretRef: { name: 'grizzly-credentials', namespace: 'shared' } } } }),
        path: 'spec.auth.tokenExchange.clientCredentialsSecretRef.namespace',
      },
    ],
  },
];
