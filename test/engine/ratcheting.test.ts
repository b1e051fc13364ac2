import { describe, expect, it } from 'vitest';
import { INTERNAL_ERROR_RULE, parsePolicy, schemaDrift, validate, type Verdict } from '../../src/engine/index.js';
import { mcpServer, readExample, recordedReview, remote } from '../fixtures.js';

const labelled = (object: Record<string, unknown>, labels: Record<string, string>): Record<string, unknown> => ({
  ...object,
  metadata: { ...(object.metadata as object), labels },
});
const withSpec = (object: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> => ({
  ...object,
  spec: { ...(object.spec as object), ...changes },
});
const summary = (verdict: Verdict) => ({
  allowed: verdict.allowed,
  denials: verdict.denials.map(({ rule, path }) => `${rule} ${path}`),
  warnings: verdict.warnings.map(({ rule, path, ratcheted }) => `${rule} ${path}${ratcheted ? ' ratcheted' : ''}`),
  audits: verdict.audits.map(({ rule, path, preexisting }) => `${rule} ${path}${preexisting ? ' preexisting' : ''}`),
});

/** An object that violates the policy and may well exist already: created before the webhook. */
const existing = readExample('vendor-tools.yaml');

describe('ratcheting on UPDATE', () => {
  it('lets a label through on an object that already had a denial, as the recorded kubectl label sent it, and shows nothing again', () => {
    const { object, oldObject } = recordedReview('032').review.request;
    expect(validate(object, { context: 'admission' }).allowed).toBe(false);
    expect(summary(validate(object, { context: 'admission', oldObject }))).toEqual({
      allowed: true,
      denials: [],
      warnings: [],
      audits: ['header-unresolved-placeholder spec.headers[Authorization] preexisting'],
    });
  });

  it('turns a denial the old object had into a warning when the spec changes elsewhere', () => {
    const verdict = validate(withSpec(existing, { timeout: 60 }), { context: 'admission', oldObject: existing });
    expect(summary(verdict)).toEqual({ allowed: true, denials: [], warnings: ['header-unresolved-placeholder spec.headers[Authorization] ratcheted'], audits: [] });
    expect(verdict.warnings[0]).toMatchObject({ action: 'warn', preexisting: true, ratcheted: true });
  });

  it('denies what the change introduces, next to what it lets through', () => {
    const worse = withSpec(existing, { headers: { Authorization: 'Bearer <token>', 'X-API-Key': '${API_KEY}' } });
    expect(summary(validate(worse, { context: 'admission', oldObject: existing }))).toEqual({
      allowed: false,
      denials: ['header-unresolved-placeholder spec.headers[X-API-Key]'],
      warnings: ['header-unresolved-placeholder spec.headers[Authorization] ratcheted'],
      audits: [],
    });
  });

  it('does not repeat a warning the object already had when the spec is untouched, and shows it when the spec changes', () => {
    const plain = remote({ url: 'http://mcp-search:8080/mcp' });
    expect(summary(validate(labelled(plain, { team: 'a' }), { context: 'admission', oldObject: plain })).warnings).toEqual([]);
    expect(summary(validate(withSpec(plain, { timeout: 60 }), { context: 'admission', oldObject: plain })).warnings).toEqual(['plaintext-url spec.url']);
    // A CREATE has no old object: the warning is shown.
    expect(summary(validate(plain, { context: 'admission' })).warnings).toEqual(['plaintext-url spec.url']);
  });

  it('denies again where the policy switches ratcheting off, for a rule or a namespace', () => {
    const forRule = parsePolicy('rules:\n  header-unresolved-placeholder: { ratcheting: false }\n', 'policy.yaml');
    const forNamespace = parsePolicy('namespaces:\n  - names: [muster]\n    ratcheting: false\n', 'policy.yaml');
    for (const policy of [forRule, forNamespace]) {
      const verdict = validate(labelled(existing, { team: 'a' }), { context: 'admission', oldObject: existing, policy });
      expect(summary(verdict).denials).toEqual(['header-unresolved-placeholder spec.headers[Authorization]']);
      expect(verdict.denials[0]?.preexisting).toBe(true);
    }
  });

  it('judges the old object only when the new one has a finding that ratcheting could change', () => {
    let reads = 0;
    const watchedOld = new Proxy(existing, { get: (target, key, receiver) => (reads++, Reflect.get(target, key, receiver)) });
    const clean = remote();
    const verdict = validate(clean, { context: 'admission', oldObject: watchedOld });
    expect(verdict).toEqual(validate(clean, { context: 'admission' }));
    expect([...verdict.denials, ...verdict.warnings, ...verdict.audits]).toEqual([]);
    expect(reads).toBe(0);
    validate(labelled(existing, { team: 'a' }), { context: 'admission', oldObject: watchedOld });
    expect(reads).toBeGreaterThan(0);
  });

  it('never lets through an object it could not check', () => {
    const huge = withSpec(existing, { args: Array.from({ length: 20_000 }, () => 'x') });
    expect(validate(huge, { context: 'admission', oldObject: huge }).allowed).toBe(false);
  });
});

describe('schema drift at admission', () => {
  // A newer Muster's CRD has fields this webhook's schema does not (upstream PR #1144).
  const newer = remote({ auth: { type: 'oauth', authorizationServer: { issuer: 'https://auth.example.com', tokenEndpoint: 'https://auth.example.com/token' } } });

  it('is never a denial or a warning at admission, but is found as drift', () => {
    const verdict = validate(newer, { context: 'admission' });
    expect(verdict.allowed).toBe(true);
    expect([...verdict.denials, ...verdict.warnings, ...verdict.audits].map((finding) => finding.rule)).toEqual(['authorization-server-override']);
    expect(schemaDrift(newer)).toEqual([{ path: 'spec.auth.authorizationServer.tokenEndpoint', unknownField: true }]);
  });

  it('is a denial in Git, where a typo would be lost', () => {
    const verdict = validate(newer, { context: 'manifest' });
    expect(verdict.denials.map((finding) => `${finding.rule} ${finding.path}`)).toEqual(['unknown-field spec.auth.authorizationServer.tokenEndpoint']);
  });

  it('is not worked out while judging at admission: a schema check that cannot finish denies only a manifest', () => {
    // The schema's name pattern overflows V8's backtracking stack on megabytes of `a.a.a...`.
    const object = mcpServer({ type: 'stdio', command: 'x' }, { name: `${'a.'.repeat(3 * 1024 * 1024)}!` });
    expect(validate(object, { context: 'admission' })).toMatchObject({ allowed: true, denials: [] });
    expect(validate(object, { context: 'manifest' }).denials.map((finding) => finding.rule)).toEqual([INTERNAL_ERROR_RULE]);
    expect(schemaDrift(object)).toEqual([]);
  });

  it('covers values the API server accepted and our schema refuses (a newer enum, a looser limit)', () => {
    const object = remote({ type: 'websocket', timeout: 600 });
    expect(validate(object, { context: 'admission' }).allowed).toBe(true);
    expect(schemaDrift(object)).toEqual([
      { path: 'spec.timeout', unknownField: false },
      { path: 'spec.type', unknownField: false },
    ]);
  });
});
