import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { parsePolicy } from '../../src/engine/index.js';
import { mcpServer } from '../fixtures.js';
import { admissionReview } from '../admission/reviews.js';
import { startAuditRig, until, type AuditRig } from '../audit/audit-harness.js';
import { testApp } from './test-app.js';

const TIER_POLICY = parsePolicy('namespaces:\n  - selector: {matchLabels: {muster.giantswarm.io/tier: production}}\n    rules: {plaintext-url: deny}\n', 'tier.yaml');
const plainHttp = (namespace: string) => mcpServer({ type: 'streamable-http', url: 'http://tools.vendor.example.com/mcp' }, { name: 'vendor', namespace });

let rig: AuditRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function allowed(app: ReturnType<typeof testApp>['app'], namespace: string): Promise<boolean> {
  const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(admissionReview(plainHttp(namespace))));
  return (res.body as { response: { allowed: boolean } }).response.allowed;
}

describe('admission with the continuous audit', () => {
  it('applies the policy label selectors to the namespace labels the audit watches', async () => {
    rig = await startAuditRig();
    const { audit } = rig.replica('replica-a', TIER_POLICY);
    const { app } = testApp(TIER_POLICY, (name) => audit.namespaceInfo(name));
    await until(() => audit.namespaceInfo('prod').labels !== undefined, 'the namespace labels');

    expect(await allowed(app, 'prod')).toBe(false);
    expect(await allowed(app, 'dev')).toBe(true);
    // A namespace the watch does not know (yet) is judged by its name alone.
    expect(await allowed(app, 'brand-new')).toBe(true);

    rig.cluster.labelNamespace('dev', { 'muster.giantswarm.io/tier': 'production' });
    await until(async () => !(await allowed(app, 'dev')), 'dev to be labelled production');
  });

  it('without the audit matches no selector, as before', async () => {
    const { app } = testApp(TIER_POLICY);
    expect(await allowed(app, 'prod')).toBe(true);
  });
});
