import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { temporaryDirectory } from '../server/child-server.js';
import { writeSecretVolume } from '../server/secret-volume.js';
import { loadDurationMs, mib, nextLogAfter, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';
import { startLoad, type LoadResult, type RunningLoad } from './load.js';

/** The policy file is a ConfigMap volume: files behind a `..data` symlink that the kubelet swaps. */
const folder = temporaryDirectory('policy-load');
const volume = join(folder.path, 'policy');
const policyFile = join(volume, 'policy.yaml');
let server: HardeningServer;

const DENY_PLAINTEXT = 'rules:\n  plaintext-url: deny\n';
const WARN_PLAINTEXT = 'rules:\n  plaintext-url: warn\n';

beforeAll(async () => {
  mkdirSync(volume);
  await writeSecretVolume(volume, { 'policy.yaml': DENY_PLAINTEXT });
  server = await startHardeningServer(['--policy', policyFile]);
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
  folder.remove();
});

/** An in-cluster server over plain http: the test policy denies it, the built-in policy and WARN_PLAINTEXT only warn. */
const body = JSON.stringify(admissionReview(readExample('in-cluster-service.yaml')));

/** Reviews whose verdict depends on the policy; `verdicts` counts what came back. */
function policyLoad(verdicts: { allowed: number; denied: number }, acceptable: () => readonly boolean[]): RunningLoad {
  return startLoad({
    concurrency: 6,
    maxDurationMs: timeLimitMs(30_000, 3000),
    send: async () => {
      const answer = await server.call({ body });
      if (answer.status !== 200) return `status ${answer.status}`;
      const { allowed } = JSON.parse(answer.body).response as { allowed: boolean };
      verdicts[allowed ? 'allowed' : 'denied'] += 1;
      return acceptable().includes(allowed) ? undefined : `allowed=${allowed}, against the policy in force`;
    },
  });
}

describe('the policy file replaced under load', () => {
  it(
    'keeps the policy in force when broken versions replace it: each is logged and counted, and no request fails or changes verdict',
    async () => {
      const broken: [string, Record<string, string>, RegExp][] = [
        ['an action that does not exist', { 'policy.yaml': 'rules:\n  plaintext-url: sometimes\n' }, /policy\.yaml:2: .*must be an action/],
        ['a YAML syntax error', { 'policy.yaml': 'rules: [\n  plaintext-url: warn\n' }, /policy\.yaml:\d+: /],
        ['a rule that does not exist', { 'policy.yaml': 'rules:\n  plaintext-urls: warn\n' }, /is not a rule ID/],
        ['binary garbage', { 'policy.yaml': '\u0000\u0001\u0002\u00ff' }, /policy\.yaml:1: /],
        ['a version without the file', { 'other.yaml': WARN_PLAINTEXT }, /cannot read policy file/],
      ];
      const verdicts = { allowed: 0, denied: 0 };
      const load = policyLoad(verdicts, () => [false]);
      const refusedAfterMs: number[] = [];
      let result: LoadResult;
      try {
        for (const [what, files, message] of broken) {
          await sleep(loadDurationMs(3000) / broken.length);
          const { line: refused, afterMs } = await nextLogAfter(server, 'policy-reload', () => writeSecretVolume(volume, files));
          refusedAfterMs.push(afterMs);
          expect(refused, what).toMatchObject({ level: 'error', result: 'failure' });
          expect((refused.error as { message: string }).message, what).toMatch(message);
        }
        await sleep(300);
      } finally {
        result = await load.stop();
      }
      reportFigures('broken policy replacements', { requests: result.sent, failed: result.failed, refused: broken.length, refusalLoggedMaxMs: Math.round(Math.max(...refusedAfterMs)), p99Ms: result.latencyP99Ms });
      expect(result.failures).toEqual({});
      expect(verdicts).toEqual({ allowed: 0, denied: result.sent });
      expect(result.sent).toBeGreaterThan(50);
      expect(await server.metric('mcpserver_webhook_policy_reloads_total{result="failure"}')).toBe(broken.length);
      expect(await server.metric('mcpserver_webhook_policy_reloads_total{result="success"}')).toBe(0);
      expect((await server.callFresh({ path: '/readyz' })).status).toBe(200);
    },
    timeLimitMs(60_000, 3000),
  );

  it(
    'swaps a good new version in whole under load: every answer is one policy or the other, and the new one holds within 5 s',
    async () => {
      const verdicts = { allowed: 0, denied: 0 };
      let acceptable: readonly boolean[] = [false, true];
      const load = policyLoad(verdicts, () => acceptable);
      let result: LoadResult;
      let pickupMs: number;
      try {
        await sleep(500);
        const published = performance.now();
        await writeSecretVolume(volume, { 'policy.yaml': WARN_PLAINTEXT });
        await within(
          5000,
          (async () => {
            while (JSON.parse((await server.call({ body })).body).response.allowed !== true) await sleep(50);
          })(),
          'the new policy',
        );
        pickupMs = performance.now() - published;
        // Requests judged before the swap may still be answering; after a moment only the new policy speaks.
        await sleep(200);
        acceptable = [true];
        await sleep(loadDurationMs(1000));
      } finally {
        result = await load.stop();
      }
      reportFigures('policy swap', { requests: result.sent, failed: result.failed, pickupMs: Math.round(pickupMs), oldVerdicts: verdicts.denied, newVerdicts: verdicts.allowed, rssMiB: mib(await server.rss()) });
      expect(result.failures).toEqual({});
      expect(verdicts.allowed).toBeGreaterThan(0);
      expect(await server.metric('mcpserver_webhook_policy_reloads_total{result="success"}')).toBe(1);
    },
    timeLimitMs(30_000, 1000),
  );
});
