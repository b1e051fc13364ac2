import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authority } from '../../src/server/dev-certificates.js';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { temporaryDirectory } from '../server/child-server.js';
import { writeSecretVolume } from '../server/secret-volume.js';
import { newAuthority, serverPair, validFor, type Pair } from '../server/test-certificates.js';
import { SOAK_SECONDS, loadDurationMs, mib, nextLogAfter, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';
import { startLoad, type LoadResult, type RunningLoad } from './load.js';

/** The certificate folder is a Secret volume: files behind a `..data` symlink that the kubelet swaps. */
const folder = temporaryDirectory('rotation');
const certDir = join(folder.path, 'certs');
let authority: Authority;
let server: HardeningServer;

/** Publishes a new version of the Secret, as the kubelet does when cert-manager renews it. */
async function publish(pair: { cert: string; key: string }): Promise<void> {
  await writeSecretVolume(certDir, { 'tls.crt': pair.cert, 'tls.key': pair.key, 'ca.crt': authority.certificate.toString() });
}

beforeAll(async () => {
  mkdirSync(certDir);
  authority = await newAuthority();
  await publish(await serverPair(authority));
  server = await startHardeningServer([], {}, certDir);
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
  folder.remove();
});

const body = JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml')));

/**
 * Reviews on kept-alive connections, as the API server sends them, and every fourth on a new
 * connection, whose handshake uses whichever certificate is in use at that moment.
 */
function reviewLoad(maxDurationMs: number): RunningLoad {
  let sent = 0;
  return startLoad({
    concurrency: 8,
    maxDurationMs,
    send: async () => {
      sent += 1;
      const answer = await (sent % 4 === 0 ? server.callFresh({ body }) : server.call({ body }));
      return answer.status === 200 && JSON.parse(answer.body).response.allowed === false ? undefined : `status ${answer.status}`;
    },
  });
}

const fingerprintOf = (pair: Pair): string => new X509Certificate(pair.cert).fingerprint256;
const served = async (): Promise<string> => (await server.callFresh({ path: '/healthz' })).fingerprint;

/** How long after `since` new connections are first served `fingerprint`; fails after 5 s. */
async function pickUp(fingerprint: string, since: number): Promise<number> {
  return within(
    5000,
    (async () => {
      while ((await served()) !== fingerprint) await sleep(50);
      return performance.now() - since;
    })(),
    'serving the new certificate',
  );
}

describe('certificate rotation under sustained load', () => {
  const rotations = SOAK_SECONDS > 0 ? Math.max(2, Math.floor(SOAK_SECONDS / 5)) : 2;

  it(
    'serves each new certificate to new connections within 5 s, and fails no request',
    async () => {
      const load = reviewLoad(timeLimitMs(30_000, 0) + rotations * 10_000);
      const pickups: number[] = [];
      let result: LoadResult;
      try {
        for (let rotation = 0; rotation < rotations; rotation++) {
          await sleep(loadDurationMs(2500) / rotations);
          const next = await serverPair(authority);
          const swapped = performance.now();
          await publish(next);
          pickups.push(await pickUp(fingerprintOf(next), swapped));
        }
        await sleep(500);
      } finally {
        result = await load.stop();
      }
      reportFigures('certificate rotation', {
        requests: result.sent,
        failed: result.failed,
        rotations,
        pickupMaxMs: Math.round(Math.max(...pickups)),
        pickupMeanMs: Math.round(pickups.reduce((sum, ms) => sum + ms, 0) / pickups.length),
        p99Ms: result.latencyP99Ms,
        rssMiB: mib(await server.rss()),
      });
      expect(result.failures).toEqual({});
      expect(result.sent).toBeGreaterThan(50);
      expect(await server.metric('mcpserver_webhook_certificate_reloads_total{result="success"}')).toBe(rotations);
      expect(server.child.logs().filter((line) => line.event === 'certificate-reload' && line.result === 'success')).toHaveLength(rotations);
    },
    timeLimitMs(30_000, 2500) + rotations * 6000,
  );

  it(
    'keeps the pair in service when a broken one replaces it (garbage, a key of another certificate, an expired certificate), logs and counts each, and fails no request',
    async () => {
      const inService = await served();
      const stranger = await serverPair(authority);
      const current = await serverPair(authority);
      const broken: [string, Pair, RegExp][] = [
        ['garbage', { cert: 'not a certificate\n', key: 'not a key\n' }, /does not hold a PEM-encoded X\.509 certificate/],
        ['a key of another certificate', { cert: current.cert, key: stranger.key }, /is not the private key of the certificate/],
        ['an expired certificate', await serverPair(authority, validFor(1, -3)), /expired on/],
      ];
      const failuresBefore = (await server.metric('mcpserver_webhook_certificate_reloads_total{result="failure"}')) ?? 0;
      const load = reviewLoad(timeLimitMs(40_000, 2000));
      const refusedAfterMs: number[] = [];
      let result: LoadResult;
      try {
        for (const [what, pair, message] of broken) {
          await sleep(loadDurationMs(2000) / broken.length);
          const { line: refused, afterMs } = await nextLogAfter(server, 'certificate-reload', () => publish(pair));
          refusedAfterMs.push(afterMs);
          expect(refused, what).toMatchObject({ level: 'error', result: 'failure' });
          expect(JSON.stringify(refused.error), what).toMatch(message);
          expect(JSON.stringify(refused), what).not.toContain('PRIVATE KEY');
          expect(await served(), what).toBe(inService);
        }
        // A good pair after the broken ones is taken into use again.
        const good = await serverPair(authority);
        const swapped = performance.now();
        await publish(good);
        await pickUp(fingerprintOf(good), swapped);
      } finally {
        result = await load.stop();
      }
      reportFigures('broken certificate replacements', {
        requests: result.sent,
        failed: result.failed,
        refused: broken.length,
        refusalLoggedMaxMs: Math.round(Math.max(...refusedAfterMs)),
      });
      expect(result.failures).toEqual({});
      expect(await server.metric('mcpserver_webhook_certificate_reloads_total{result="failure"}')).toBe(failuresBefore + broken.length);
      expect((await server.callFresh({ path: '/readyz' })).status).toBe(200);
    },
    timeLimitMs(60_000, 2000),
  );
});
