import { describe, expect, it } from 'vitest';
import { findPlaceholder, isCredentialHeader, knownTokenFormat, literalCredential } from '../../src/engine/credentials.js';
import { isInClusterHost } from '../../src/engine/network.js';

describe('credential headers by name', () => {
  it.each(['Authorization', 'proxy-authorization', 'Cookie', 'X-API-Key', 'X-Auth-Token', 'X-Vendor-Secret', 'X-Session-Id', 'X-Apikey', 'Password'])('%s carries a credential', (name) => {
    expect(isCredentialHeader(name)).toBe(true);
  });
  it.each(['X-Tenant', 'Accept', 'User-Agent', 'X-Request-Id', 'Content-Type'])('%s does not', (name) => {
    expect(isCredentialHeader(name)).toBe(false);
  });
});

describe('well-known token formats', () => {
  it.each([
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abc', 'a JSON Web Token'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'a GitHub token'],
    ['github_pat_11ABCDEFG0123456789_abcdefghijkl', 'a GitHub token'],
    ['glpat-abcdefghij0123456789', 'a GitLab token'],
    ['xoxb-123456789012-abcdef', 'a Slack token'],
    ['AKIAIOSFODNN7EXAMPLE', 'an AWS access key ID'],
    ['sk-ant-api03-abcdefghijklmnopqrstuv', 'an sk- style API key'],
    ['AIzaSyA1234567890abcdefghijklmnopqrstuv', 'a Google API key'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'a private key'],
  ])('%s is %s', (value, name) => {
    expect(knownTokenFormat(value)).toBe(name);
  });
  it.each(['acme', 'Bearer <token>', 'text/event-stream', 'muster/1.0'])('%s is none', (value) => {
    expect(knownTokenFormat(value)).toBeUndefined();
  });
});

describe('placeholders', () => {
  it('finds template syntaxes in any header, and placeholder words only in credential headers', () => {
    expect(findPlaceholder('${TENANT}', false)).toContain('${...}');
    expect(findPlaceholder('xxx', false)).toBeUndefined();
    expect(findPlaceholder('Bearer xxx', true)).toContain('placeholder word');
    expect(findPlaceholder('Bearer 7d1f0c2a9e', true)).toBeUndefined();
  });
  it('a placeholder is not a literal credential, and a real value in a credential header is', () => {
    expect(literalCredential('Authorization', 'Bearer <token>')).toBeUndefined();
    expect(literalCredential('Authorization', 'Bearer ')).toBeUndefined();
    expect(literalCredential('Authorization', 'Bearer 7d1f0c2a9e')).toBe('a credential');
    expect(literalCredential('X-Tenant', 'acme')).toBeUndefined();
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
