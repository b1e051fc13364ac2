import fc from 'fast-check';

/** Values shaped like MCPServer fields, often right and often wrong, so every rule gets exercised. */
const anyValue = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }));
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof(arbitrary, anyValue);
const secret = fc.stringMatching(/^[A-Za-z0-9]{24,40}$/).map((s) => `tok${s}`);
const headerValue = fc.oneof(
  secret.map((s) => `Bearer ${s}`),
  secret.map((s) => `ghp_${s.padEnd(36, 'x').slice(0, 36)}`),
  fc.constantFrom('Bearer <token>', '${TOKEN}', 'acme', '', 'REPLACE_ME'),
  fc.string(),
);

const spec = fc.record(
  {
    type: maybe(fc.constantFrom('stdio', 'streamable-http', 'sse')),
    command: maybe(fc.constantFrom('mcp-local', '')),
    args: maybe(fc.array(fc.string(), { maxLength: 2 })),
    url: maybe(fc.constantFrom('https://mcp.example.com/mcp', 'http://mcp.example.com/mcp', 'http://svc:8080', 'not a url', 'http://[::1]/x')),
    headers: maybe(fc.dictionary(fc.constantFrom('Authorization', 'authorization', 'X-API-Key', 'X-Tenant', 'Bad Name', 'Cookie'), headerValue, { maxKeys: 4 })),
    env: maybe(fc.dictionary(fc.constantFrom('GITHUB_TOKEN', 'HOME'), secret, { maxKeys: 2 })),
    timeout: maybe(fc.integer({ min: -5, max: 400 })),
    description: maybe(fc.string({ maxLength: 600 })),
    toolPrefix: maybe(fc.string()),
    family: maybe(fc.record({ name: maybe(fc.constantFrom('kubernetes', 'github')), instanceArg: maybe(fc.constantFrom('cluster', 'org')) }, { requiredKeys: [] })),
    auth: maybe(
      fc.record(
        {
          type: maybe(fc.constantFrom('oauth', 'none')),
          forwardToken: maybe(fc.boolean()),
          requiredAudiences: maybe(fc.array(fc.string(), { maxLength: 2 })),
          authorizationServer: maybe(fc.record({ issuer: maybe(fc.constantFrom('https://auth.example.com', 'https://auth.example.com/', 'http://x')), scopes: maybe(fc.string()) }, { requiredKeys: [] })),
          tokenExchange: maybe(
            fc.record(
              {
                enabled: maybe(fc.boolean()),
                dexTokenEndpoint: maybe(fc.constantFrom('https://dex.example.com/token', 'http://dex', 'https://dex.example.com/token/', 'https://dex.example.com/token?a=b', 'https://dex.example.com')),
                connectorId: maybe(fc.constantFrom('cluster-a', '1bad')),
                clientCredentialsSecretRef: maybe(fc.record({ name: maybe(fc.oneof(fc.constantFrom('dex-client', 'missing'), fc.string())), namespace: maybe(fc.constantFrom('muster', 'other')) }, { requiredKeys: [] })),
              },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    unknownField: anyValue,
    // Misspelt and misplaced fields, for which a fix is offered.
    forwardtoken: maybe(fc.boolean()),
    toolprefix: maybe(fc.constantFrom('tools', 'x')),
    name: maybe(fc.constantFrom('mcp-a', '')),
  },
  { requiredKeys: [] },
);

/** An MCPServer, often right and often wrong in every field, and now and then any value at all. */
export const mcpServerObject = fc.oneof(
  { weight: 8, arbitrary: fc.record({ apiVersion: maybe(fc.constant('muster.giantswarm.io/v1alpha1')), kind: maybe(fc.constant('MCPServer')), metadata: maybe(fc.record({ name: maybe(fc.string()), namespace: maybe(fc.string()) }, { requiredKeys: [] })), spec: maybe(spec) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.anything() },
);
