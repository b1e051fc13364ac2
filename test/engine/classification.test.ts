import { describe, expect, it } from 'vitest';
import { classifyCredential, isCredentialEnvName, isCredentialHeader, knownTokenFormat } from '../../src/engine/credentials.js';
import { DUMMY_VALUES, PLACEHOLDER_VALUES, generatedBasicCredential, generatedOpaqueSecret, generatedTokens } from './generated-tokens.js';
import { isInClusterHost } from '../../src/engine/network.js';

describe('credential headers by name', () => {
  it.each(['Authorization', 'proxy-authorization', 'Cookie', 'X-API-Key', 'X-Auth-Token', 'X-Vendor-Secret', 'X-Session-Id', 'X-Apikey', 'Password'])('%s carries a credential', (name) => {
    expect(isCredentialHeader(name)).toBe(true);
  });
  it.each(['X-Tenant', 'Accept', 'User-Agent', 'X-Request-Id', 'Content-Type'])('%s does not', (name) => {
    expect(isCredentialHeader(name)).toBe(false);
  });
});

describe('the credential classifier', () => {
  const tokens = generatedTokens();
  it.each(tokens.map((token) => [token.kind, token.value] as const))('%s is a secret wherever it is', (kind, value) => {
    expect(knownTokenFormat(value)).toBe(kind);
    expect(classifyCredential(value, false)).toEqual({ class: 'secret', kind });
    expect(classifyCredential(`Bearer ${value}`, true)).toEqual({ class: 'secret', kind });
  });
  it('takes a machine-made value, and a Basic user and password, for secrets where a credential goes', () => {
    expect(classifyCredential(`Bearer ${generatedOpaqueSecret()}`, true)?.class).toBe('secret');
    expect(classifyCredential(generatedBasicCredential(), true)?.class).toBe('secret');
    expect(classifyCredential(generatedOpaqueSecret(), false)).toBeUndefined();
  });
  it.each(DUMMY_VALUES)('%s is a dummy value where a credential goes, and nothing elsewhere', (value) => {
    expect(classifyCredential(value, true)?.class).toBe('dummy');
    expect(classifyCredential(value, false)).toBeUndefined();
  });
  it.each(PLACEHOLDER_VALUES)('%s is a placeholder where a credential goes', (value) => {
    expect(classifyCredential(value, true)?.class).toBe('placeholder');
  });
  it('finds template syntax in any field, and placeholder words only where a credential goes', () => {
    expect(classifyCredential('${TENANT}', false)?.kind).toContain('${...}');
    expect(classifyCredential('xxx', false)).toBeUndefined();
    expect(classifyCredential('Bearer xxx', true)?.kind).toContain('placeholder word');
    expect(classifyCredential('acme', false)).toBeUndefined();
  });
  it.each(['acme', 'Bearer <token>', 'text/event-stream', 'muster/1.0'])('%s is no known token format', (value) => {
    expect(knownTokenFormat(value)).toBeUndefined();
  });
});

describe('credential environment variables by name', () => {
  it.each(['GITHUB_PERSONAL_ACCESS_TOKEN', 'OPENAI_API_KEY', 'SLACK_BOT_TOKEN', 'CLIENT_SECRET', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'PGPASSWORD', 'APIKEY'])('%s carries a credential', (name) => {
    expect(isCredentialEnvName(name)).toBe(true);
  });
  it.each(['TOKEN_URL', 'LOG_LEVEL', 'KUBECONFIG', 'GIT_ROOT', 'SECRET_NAME', 'PYTHONPATH'])('%s does not', (name) => {
    expect(isCredentialEnvName(name)).toBe(false);
  });
});

describe('in-cluster hosts', () => {
  it.each(['localhost', 'api.localhost', '127.0.0.1', '127.8.9.10', '[::1]', 'mcp-kubernetes', 'mcp.tools.svc', 'mcp.tools.svc.cluster.local', 'MCP.Tools.SVC.Cluster.Local.'])('%s is inside', (host) => {
    expect(isInClusterHost(host)).toBe(true);
  });
  it.each(['tools.example.com', '10.0.0.1', '192.168.1.5', '[fd00::1]', 'svc.example.com', 'cluster.local.evil.com'])('%s is outside', (host) => {
    expect(isInClusterHost(host)).toBe(false);
  });
});
