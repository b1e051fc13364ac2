import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Policy, RULES, validate, type Finding } from '../../src/engine/index.js';
import { runCli, workspace } from '../cli/run-cli.js';
import { CASES } from '../engine/rule-cases.js';
import { exampleFiles, readExample } from '../fixtures.js';
import { eventually } from '../server/child-server.js';
import { adminClients, createNamespace, createObject, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { request, type KubeAnswer } from './kube-http.js';

/**
 * The output of `mcpserver-webhook vap` applied to a real API server with no webhook at all: the
 * API server itself denies (or warns about) each mistake the policy expresses, naming the rule,
 * as the engine judges the same object. And `validate` words the CRD's own CEL failures as this
 * API server does. ValidatingAdmissionPolicy v1 is served from Kubernetes 1.30: against an older
 * API server the policy tests are skipped, saying so.
 */
const NAMESPACE = 'muster';
/** A namespace where the policy file below turns the override warning into a denial. */
const STRICT = 'payments';
const POLICY = `namespaces:\n  - selector:\n      matchLabels:\n        tier: payments\n    rules:\n      authorization-server-override: deny\n`;

let plane: ControlPlane;
let servesPolicies = false;
let enforced: string[] = [];
const policy = new Policy({ namespaces: [{ selector: { matchLabels: { tier: 'payments' } }, rules: { 'authorization-server-override': 'deny' } }] }, 'e2e');

function create(namespace: string, object: Record<string, unknown>): Promise<KubeAnswer> {
  const body = { ...object, metadata: { ...(object.metadata as object), namespace } };
  return request(endpoint(plane), 'POST', mcpServerPath(namespace), { body, query: { fieldValidation: 'Strict', dryRun: 'All' } });
}

/** The rule IDs at the end of the messages the API server gave: the denial's, and each warning's. */
function rulesIn(texts: readonly string[]): string[] {
  return texts.flatMap((text) => [...text.matchAll(/\[([a-z0-9-]+)\]/g)].map((match) => match[1]!)).sort();
}

beforeAll(async () => {
  plane = await startControlPlane();
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await createNamespace(clients, NAMESPACE);
  await createNamespace(clients, STRICT, { tier: 'payments' });
  const group = await request(endpoint(plane), 'GET', '/apis/admissionregistration.k8s.io/v1');
  servesPolicies = ((group.body?.resources ?? []) as { name: string }[]).some((resource) => resource.name === 'validatingadmissionpolicies');
  if (!servesPolicies) {
    console.log('admission-policy.e2e: this kube-apiserver does not serve admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy (Kubernetes 1.30 and later): the policy tests are skipped');
    return;
  }
  const dir = workspace({ 'policy.yaml': POLICY });
  const run = await runCli(['vap', '--policy', `${dir}/policy.yaml`]);
  expect(run.stderr).toBe('');
  const documents = loadAll(run.stdout).filter(Boolean) as Record<string, unknown>[];
  for (const document of documents) {
    const plural = document.kind === 'ValidatingAdmissionPolicy' ? 'validatingadmissionpolicies' : 'validatingadmissionpolicybindings';
    await createObject(plane, `/apis/admissionregistration.k8s.io/v1/${plural}`, document);
  }
  enforced = [...(/^# Enforced by the API server: (.*)\.$/m.exec(run.stdout)?.[1] ?? '').split(', ')];
  // The policies take effect once the API server's informers have them: until a known mistake is denied.
  const missingEndpoint = readExample('invalid/token-exchange-required-fields.yaml');
  await eventually(async () => ((await create(NAMESPACE, missingEndpoint)).status >= 400 ? true : undefined), 30_000);
}, 180_000);

afterAll(async () => {
  await plane?.stop();
});

describe('the ValidatingAdmissionPolicy of `mcpserver-webhook vap`, on a real API server without the webhook', () => {
  it('is accepted: a policy and a binding for each action, covering most rules', async (context) => {
    if (!servesPolicies) context.skip();
    // The type-checking status is written by kube-controller-manager, which this harness does
    // not run: the tests below prove the expressions by what they decide.
    for (const action of ['deny', 'warn']) {
      for (const plural of ['validatingadmissionpolicies', 'validatingadmissionpolicybindings']) {
        const answer = await request(endpoint(plane), 'GET', `/apis/admissionregistration.k8s.io/v1/${plural}/mcpserver-webhook-${action}`);
        expect(answer.status, answer.text).toBe(200);
      }
    }
    expect(enforced.length).toBeGreaterThan(10);
  });

  it('denies and warns as the engine judges, naming each rule, for every case of every rule it enforces', async (context) => {
    if (!servesPolicies) context.skip();
    let seen = 0;
    for (const { rule, fires, passes, schema } of CASES) {
      if (!enforced.includes(rule) || schema) continue;
      for (const object of [...fires.map((fire) => fire.object), ...passes]) {
        const answer = await create(NAMESPACE, object);
        // What the CRD itself refuses never reaches an admission policy.
        if (answer.status >= 400 && !/ValidatingAdmissionPolicy/.test(answer.text)) continue;
        const verdict = validate({ ...object, metadata: { ...(object.metadata as object), namespace: NAMESPACE } }, { context: 'admission', policy });
        const ours = (findings: readonly Finding[]) => findings.map((finding) => finding.rule).filter((id) => enforced.includes(id));
        const denied = [...new Set(ours(verdict.denials))];
        const what = `${rule}: ${JSON.stringify(object)}: ${answer.status} ${answer.text}`;
        if (denied.length > 0) {
          expect(answer.status, what).toBe(422);
          // The API server reports the first failed validation of the deny policy.
          expect(denied, what).toContain(rulesIn([answer.body?.message ?? ''])[0]);
        } else {
          expect(answer.status, what).toBeLessThan(300);
          expect(rulesIn(answer.warnings), what).toEqual([...new Set(ours(verdict.warnings))].sort());
        }
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it("follows the policy's namespace override: the override warning is a denial where the namespace's labels say so", async (context) => {
    if (!servesPolicies) context.skip();
    const object = readExample('atlassian.yaml');
    const relaxed = await create(NAMESPACE, object);
    expect(relaxed.status, relaxed.text).toBeLessThan(300);
    expect(rulesIn(relaxed.warnings)).toEqual(['authorization-server-override']);
    const strict = await create(STRICT, object);
    expect(strict.status, strict.text).toBe(422);
    expect(strict.body?.message).toMatch(/^mcpservers\.muster\.giantswarm\.io "atlassian" is forbidden: ValidatingAdmissionPolicy 'mcpserver-webhook-deny' with binding 'mcpserver-webhook-deny' denied request: spec\.auth\.authorizationServer: .* \[authorization-server-override\]$/);
  });
});

describe("validate and the API server word the CRD's CEL failures alike", () => {
  it('for every example the CRD refuses by a CEL rule', async () => {
    const mirrorsOff = new Policy({ rules: Object.fromEntries(RULES.filter((rule) => rule.mirrorsCrdRule).map((rule) => [rule.id, 'off'])) }, 'e2e');
    let compared = 0;
    for (const file of exampleFiles('invalid')) {
      const object = readExample(`invalid/${file}`);
      const ours = validate(object, { context: 'manifest', policy: mirrorsOff }).denials.filter((finding) => finding.rule === 'crd-cel-rule');
      if (ours.length === 0) continue;
      const answer = await create(NAMESPACE, object);
      const causes = ((answer.body?.details?.causes ?? []) as { field?: string; message?: string }[]).map((cause) => `${cause.field}: ${cause.message}`);
      expect(causes, file).toEqual(ours.map((finding) => `${finding.path || '<nil>'}: ${finding.message}`));
      compared++;
    }
    expect(compared).toBe(8);
  });
});
