import { Agent } from 'node:https';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { httpsCall } from '../server/child-server.js';
import { HOST, SOAK_SECONDS, loadDurationMs, mib, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';
import { runLoad } from './load.js';

const IDLE_CONNECTIONS = SOAK_SECONDS > 0 ? 1000 : 600;

/** What an idle TLS connection may add to the resident size: 28 to 40 KiB measured, with room. */
const MAX_BYTES_PER_CONNECTION = 100 * 1024;
/** The chart's memory limit is 256 MiB; traffic alone brings the server to about 145 MiB. */
const MAX_RSS_BYTES = 200 * 1024 * 1024;
/** The keepAliveTimeout docs/serve.md states: an idle connection is closed after 100 s. */
const KEEP_ALIVE_TIMEOUT_MS = 100_000;

const BATCH = 100;
let server: HardeningServer;
/** One agent per batch of connections, so that no batch reuses the connections of another. */
const agents: Agent[] = [];

beforeAll(async () => {
  server = await startHardeningServer();
});

afterAll(async () => {
  for (const agent of agents) agent.destroy();
  expect(await server.stop()).toBe(0);
});

const body = JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml')));
const idleSockets = (): Socket[] => agents.flatMap((agent) => Object.values(agent.freeSockets).flatMap((sockets) => sockets ?? []));

describe('many idle connections', () => {
  it(
    `holds ${IDLE_CONNECTIONS} idle TLS keep-alive connections in bounded memory and still serves a new client at once`,
    async () => {
      // Warm up, so that the baseline includes what any first requests allocate.
      await runLoad({ concurrency: 4, send: async () => ((await server.call({ body })).status === 200 ? undefined : 'failed') }, 500);
      const before = await server.rss();

      // Each connection completes a handshake and one request, then sits idle in the agent's pool.
      for (let opened = 0; opened < IDLE_CONNECTIONS; opened += BATCH) {
        const agent = new Agent({ keepAlive: true, maxSockets: BATCH, maxFreeSockets: BATCH, ca: server.ca });
        agents.push(agent);
        await Promise.all(Array.from({ length: BATCH }, () => httpsCall(server.child.port, { ca: server.ca, host: HOST, agent, path: '/healthz' })));
      }
      expect(idleSockets()).toHaveLength(IDLE_CONNECTIONS);
      expect(await server.metric('process_open_fds')).toBeGreaterThanOrEqual(IDLE_CONNECTIONS);
      const opened = await server.rss();

      const started = performance.now();
      const fresh = await within(5000, server.callFresh({ body }));
      const freshMs = performance.now() - started;
      expect(fresh.status).toBe(200);
      expect(JSON.parse(fresh.body).response.allowed).toBe(false);

      // Then light traffic for a while (about 100 reviews a second), with the idle connections still open.
      let peak = opened;
      const light = async (): Promise<string | undefined> => {
        const answer = await server.call({ body });
        await sleep(20);
        return answer.status === 200 ? undefined : 'failed';
      };
      const load = runLoad({ concurrency: 2, send: light }, loadDurationMs(1000));
      while (!(await Promise.race([load.then(() => true), sleep(1000).then(() => false)]))) peak = Math.max(peak, await server.rss());
      const result = await load;
      peak = Math.max(peak, await server.rss());
      const stillOpen = idleSockets().length;

      reportFigures('idle connections', {
        idleConnections: IDLE_CONNECTIONS,
        rssBeforeMiB: mib(before),
        rssWithIdleMiB: mib(opened),
        rssPeakMiB: mib(peak),
        kibPerConnection: Math.round((opened - before) / IDLE_CONNECTIONS / 1024),
        newClientMs: Math.round(freshMs),
        requests: result.sent,
        failed: result.failed,
        stillOpen,
      });
      expect((opened - before) / IDLE_CONNECTIONS).toBeLessThan(MAX_BYTES_PER_CONNECTION);
      expect(peak).toBeLessThan(MAX_RSS_BYTES);
      expect(freshMs).toBeLessThan(2000);
      expect(result.failures).toEqual({});
      // The server closes idle connections after its keepAliveTimeout, and not before.
      if (loadDurationMs(1000) < KEEP_ALIVE_TIMEOUT_MS - 10_000) expect(stillOpen).toBe(IDLE_CONNECTIONS);
      else if (loadDurationMs(1000) > KEEP_ALIVE_TIMEOUT_MS + 10_000) expect(stillOpen).toBe(0);
    },
    timeLimitMs(60_000, 1000),
  );
});

