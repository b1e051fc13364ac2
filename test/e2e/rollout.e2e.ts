import { Agent } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadValues } from '../charts/chart-files.js';
import { stdio } from '../fixtures.js';
import type { ChildServer } from '../server/child-server.js';
import { adminClients, createNamespace, endpoint, installCrd, MCPSERVER_CRD, mcpServerPath } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { request } from './kube-http.js';
import { temporaryFolder } from './processes.js';
import { ReadinessProxy } from './readiness-proxy.js';
import { decisions, registerWebhook, startWebhook, untilWebhookCalled, webhookCa } from './webhook.js';

/**
 * A rolling restart as an operator runs one, with `failurePolicy: Fail`: two replicas behind a
 * Service-like proxy that follows readiness (test/e2e/readiness-proxy.ts), a real API server
 * sending the reviews, and a steady stream of MCPServer creates while each replica in turn is
 * taken out of the endpoints, given the chart's preStop pause, sent SIGTERM and started again,
 * over and over. The API server keeps its pooled connections to a replica that has left the
 * endpoints and goes on sending reviews on them: a replica that closed one under a review made
 * that create fail with `EOF`. Every create must succeed.
 *
 * Its size: E2E_ROLLOUT_CREATES creates at least (default 5,000) and E2E_ROLLOUT_RESTARTS rolling
 * restarts at least (default 3), whichever takes longer, within ten minutes.
 */

const NAMESPACE = 'rollout';
const CREATES = countFromEnvironment('E2E_ROLLOUT_CREATES', 5000);
const ROLLING_RESTARTS = countFromEnvironment('E2E_ROLLOUT_RESTARTS', 3);
/** Creates in flight at once, each sender one after the other on kept-alive connections to the API server. */
const SENDERS = 8;
/** The chart's preStop pause: a replica out of the endpoints keeps serving this long before its SIGTERM. */
const PRE_STOP_SECONDS = (loadValues().server as { preStopSleepSeconds: number }).preStopSleepSeconds;
/**
 * Shorter than the chart's 20 s so that a run takes minutes, and stricter: the connections still
 * idle when it ends are cut sooner after the replica left the endpoints.
 */
const GRACE_SECONDS = 5;
const TIME_LIMIT_MS = 10 * 60_000;

function countFromEnvironment(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new Error(`${name} must be a whole number above 0, not ${value}`);
  return count;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let plane: ControlPlane;
let proxy: ReadinessProxy;
const certificates = temporaryFolder('rollout-certificates');
/** Every replica started, the stopped ones too: their logs hold the reviews they answered. */
const replicas: ChildServer[] = [];

/** A new replica with the shared certificate; resolves once the proxy sends it connections. */
async function startReplica(): Promise<ChildServer> {
  const replica = await startWebhook(certificates.path, { args: ['--shutdown-grace', String(GRACE_SECONDS)] });
  replicas.push(replica);
  proxy.add(replica.port);
  await proxy.untilReady(replica.port);
  return replica;
}

interface Stopped {
  readonly exitCode: number | null;
  /** From SIGTERM to the exit. */
  readonly drainMs: number;
}

/** As Kubernetes deletes a pod: out of the endpoints, the preStop pause, SIGTERM, and the wait for its exit. */
async function stopReplica(replica: ChildServer): Promise<Stopped> {
  proxy.remove(replica.port);
  await sleep(PRE_STOP_SECONDS * 1000);
  const signalled = performance.now();
  replica.process.kill('SIGTERM');
  const exitCode = await replica.exited;
  return { exitCode, drainMs: performance.now() - signalled };
}

beforeAll(async () => {
  plane = await startControlPlane();
  const clients = adminClients(plane);
  await installCrd(plane, MCPSERVER_CRD);
  await createNamespace(clients, NAMESPACE);
  // The first replica makes the development certificate; the second, and every later one, use it too.
  const first = await startWebhook(certificates.path, { args: ['--shutdown-grace', String(GRACE_SECONDS)] });
  replicas.push(first);
  proxy = await ReadinessProxy.start(webhookCa(certificates.path));
  proxy.add(first.port);
  await proxy.untilReady(first.port);
  await registerWebhook(clients, proxy.port, webhookCa(certificates.path));
  await untilWebhookCalled(plane, first, NAMESPACE);
  await startReplica();
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(replicas.map((replica) => replica.stop()));
  await plane?.stop();
  certificates.remove();
});

describe('a rolling restart under a stream of creates', () => {
  it(
    `loses no write: ${CREATES} creates or more, through ${ROLLING_RESTARTS} rolling restarts or more of two replicas, every one created`,
    async () => {
      const started = performance.now();
      const agent = new Agent({ keepAlive: true, maxSockets: SENDERS, ca: plane.ca });
      let created = 0;
      const failures: string[] = [];
      let sending = true;
      const senders = Array.from({ length: SENDERS }, async (_, sender) => {
        for (let index = 0; sending; index++) {
          const object = stdio();
          const answer = await request(endpoint(plane), 'POST', mcpServerPath(NAMESPACE), {
            body: { ...object, metadata: { name: `server-${sender}-${index}`, namespace: NAMESPACE } },
            agent,
          }).catch((error: Error) => ({ status: 0, body: undefined, text: error.message }));
          if (answer.status === 201) created += 1;
          else failures.push(`${answer.status} ${(answer.body as { message?: string } | undefined)?.message ?? answer.text}`);
        }
      });

      const stops: Stopped[] = [];
      let rollingRestarts = 0;
      const current = replicas.slice(-2);
      while (rollingRestarts < ROLLING_RESTARTS || created + failures.length < CREATES) {
        if (performance.now() - started > TIME_LIMIT_MS) break;
        for (let slot = 0; slot < current.length; slot++) {
          stops.push(await stopReplica(current[slot] as ChildServer));
          current[slot] = await startReplica();
        }
        rollingRestarts += 1;
      }
      sending = false;
      await Promise.all(senders);
      agent.destroy();

      const stored = await request(endpoint(plane), 'GET', mcpServerPath(NAMESPACE));
      const reviews = replicas.reduce((total, replica) => total + decisions(replica).length, 0);
      console.log(
        `[e2e] rolling restarts: creates=${created + failures.length} created=${created} failed=${failures.length} rollingRestarts=${rollingRestarts} ` +
          `replicaStops=${stops.length} reviewsAnswered=${reviews} drainMaxMs=${Math.round(Math.max(...stops.map((stop) => stop.drainMs)))} ` +
          `seconds=${Math.round((performance.now() - started) / 1000)}`,
      );
      expect(failures).toEqual([]);
      expect(created).toBeGreaterThanOrEqual(CREATES);
      expect(rollingRestarts).toBeGreaterThanOrEqual(ROLLING_RESTARTS);
      expect((stored.body as { items: unknown[] }).items).toHaveLength(created);
      expect(stops.map((stop) => stop.exitCode)).toEqual(stops.map(() => 0));
      for (const stop of stops) expect(stop.drainMs).toBeLessThan((GRACE_SECONDS + 2) * 1000);
    },
    TIME_LIMIT_MS + 60_000,
  );
});
