import { describe, expect, it } from 'vitest';
import { Fleet, Policy, RULES, validate } from '../../src/engine/index.js';
import { readdirSync } from 'node:fs';
import { exampleFiles, readExample, repositoryFile } from '../fixtures.js';

const rulesOf = (findings: readonly { rule: string }[]) => findings.map((finding) => finding.rule);

describe('examples a new user can try', () => {
  it.each(exampleFiles(''))('%s is allowed in Git (manifest context)', (file) => {
    const verdict = validate(readExample(file), { context: 'manifest' });
    expect(verdict.denials).toEqual([]);
    expect(verdict.allowed).toBe(true);
  });

  it('has an example under examples/invalid/ for every rule of one object, and each fires its rule', () => {
    const single = RULES.filter((rule) => rule.needs !== 'fleet');
    expect(exampleFiles('invalid')).toEqual(single.map((rule) => `${rule.id}.yaml`).sort());
    for (const rule of single) {
      const context = rule.defaults.manifest === 'off' ? 'admission' : 'manifest';
      // A rule that looks at Secrets runs where they are known: here, none exist.
      const fleet = rule.needs === 'secrets' ? new Fleet([], { has: () => false }) : undefined;
      // The CRD's own CEL rules speak where no rule of ours says the same: with the bundled CRD, where
      // the rule that stands for one is off (examples/invalid/crd-cel-rule.yaml says which).
      const policy = rule.id === 'crd-cel-rule' ? new Policy({ rules: { 'authorization-server-oauth-only': 'off' } }, 'test') : undefined;
      const verdict = validate(readExample(`invalid/${rule.id}.yaml`), { context, fleet, policy });
      const fired = [...verdict.denials, ...verdict.warnings, ...verdict.audits];
      expect(rulesOf(fired), rule.id).toContain(rule.id);
    }
  });

  it('has a folder under examples/fleet/ for every rule across objects, where it fires on every file', () => {
    const acrossObjects = RULES.filter((rule) => rule.needs === 'fleet');
    expect(readdirSync(repositoryFile('examples/fleet')).sort()).toEqual(acrossObjects.map((rule) => rule.id).sort());
    for (const rule of acrossObjects) {
      const objects = exampleFiles(`fleet/${rule.id}`).map((file) => readExample(`fleet/${rule.id}/${file}`));
      expect(objects.length, rule.id).toBeGreaterThan(1);
      const fleet = new Fleet(objects.map((object, index) => ({ id: String(index), object })));
      for (const object of objects) {
        const verdict = validate(object, { context: 'manifest', fleet });
        expect(rulesOf(verdict.denials), rule.id).toEqual([rule.id]);
        // Alone, the object is fine: the mistake is between objects.
        expect(validate(object, { context: 'manifest', fleet: new Fleet() }).allowed, rule.id).toBe(true);
      }
    }
  });
});

describe("the product page's three servers", () => {
  it('the static-token server: a placeholder passes in Git and is denied at admission, where the pipeline should have filled it', () => {
    const vendor = readExample('vendor-tools.yaml');
    const inGit = validate(vendor, { context: 'manifest' });
    expect(inGit.allowed).toBe(true);
    expect(rulesOf(inGit.audits)).toEqual(['header-unresolved-placeholder']);

    const atAdmission = validate(vendor, { context: 'admission' });
    expect(atAdmission.allowed).toBe(false);
    expect(rulesOf(atAdmission.denials)).toEqual(['header-unresolved-placeholder']);
    expect(atAdmission.denials[0]?.path).toBe('spec.headers[Authorization]');
  });

  it('the static-token server with the token filled in: denied in Git (a leaked secret), allowed with a warning at admission', () => {
    const vendor = readExample('vendor-tools.yaml') as { spec: { headers: Record<string, string> } };
    vendor.spec.headers.Authorization = 'Bearer 0f3c9e5a7b1d2c4e6f8a0b2c';
    expect(rulesOf(validate(vendor, { context: 'manifest' }).denials)).toEqual(['header-literal-credential']);
    const atAdmission = validate(vendor, { context: 'admission' });
    expect(atAdmission.allowed).toBe(true);
    expect(rulesOf(atAdmission.warnings)).toEqual(['header-literal-credential']);
  });

  it('the OAuth server with standard discovery is allowed without a word in both contexts', () => {
    for (const context of ['manifest', 'admission'] as const) {
      expect(validate(readExample('oauth-discovery.yaml'), { context })).toMatchObject({ allowed: true, denials: [], warnings: [], audits: [] });
    }
  });

  it('the Atlassian server with the authorizationServer override is allowed, with a warning that names the override', () => {
    for (const context of ['manifest', 'admission'] as const) {
      const verdict = validate(readExample('atlassian.yaml'), { context });
      expect(verdict.allowed).toBe(true);
      expect(rulesOf(verdict.warnings)).toEqual(['authorization-server-override']);
    }
  });

  it('rejects the override combined with token forwarding, as the product page says admission does', () => {
    const atlassian = readExample('atlassian.yaml') as { spec: { auth: Record<string, unknown> } };
    atlassian.spec.auth.forwardToken = true;
    expect(rulesOf(validate(atlassian, { context: 'admission' }).denials)).toEqual(['authorization-server-forward-token-conflict']);
  });
});

describe('both contexts deny a credential over plain http to a host outside the cluster', () => {
  it.each(['manifest', 'admission'] as const)('%s', (context) => {
    const verdict = validate(readExample('invalid/credential-over-plaintext.yaml'), { context });
    expect(rulesOf(verdict.denials)).toContain('credential-over-plaintext');
  });
});
