import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { HOST, SOAK_SECONDS, failureReason, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';

/**
 * The race of a rolling restart, between a replica told to stop and a client that reuses its
 * connections as Go's HTTP client (the API server's) does: a pool of kept-alive connections, and
 * more requests waiting than connections, so a review is written on a connection the moment it is
 * idle. A connection the server closes while idle may already carry the next review; Go does not
 * retry a POST that met EOF after it was written, so with `failurePolicy: Fail` that review is a
 * refused write. The only failure a client can safely retry is a connection refused before
 * anything was sent (in a cluster it dials the Service again and reaches another replica).
 */

/** Long enough that every request ends well before it: an idle connection cut at its end races nothing here. */
const GRACE_SECONDS = 10;
/** Connections in the pool, and reviews waiting for one of them (Go queues them the same way). */
const POOL_SIZE = 8;
const SENDERS = 12;
/** Load before the signal; each signal is a new server. Several, so that the race, where it exists, shows. */
const LOAD_BEFORE_SIGNAL_MS = 400;
const CYCLES = SOAK_SECONDS > 0 ? Math.max(5, Math.floor(SOAK_SECONDS / 3)) : 4;

let server: HardeningServer | undefined;
afterEach(async () => {
  await server?.stop();
});

const body = Buffer.from(JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml'), { uid: 'race' })));

interface Outcome {
  readonly answered: boolean;
  readonly error?: string;
}

function review(port: number, agent: Agent): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      { host: HOST, port, agent, method: 'POST', path: '/validate', headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => {
          const answer = res.statusCode === 200 ? (JSON.parse(text) as { response?: { uid?: string; allowed?: boolean } }).response : undefined;
          resolve({ answered: answer?.uid === 'race' && answer.allowed === false });
        });
        res.on('error', (error) => resolve({ answered: false, error: failureReason(error) }));
      },
    );
    req.on('error', (error) => resolve({ answered: false, error: failureReason(error) }));
    req.end(body);
  });
}

/** A review that got no answer for a reason other than a refused connection: a write the API server would refuse. */
const lost = (outcome: Outcome): boolean => !outcome.answered && outcome.error !== 'ECONNREFUSED';

describe('SIGTERM with a client that reuses kept-alive connections as Go does', () => {
  it(
    'never closes a connection under a review: every review gets its answer, or a refused connection before it is sent',
    async () => {
      const figures = { reviews: 0, lost: 0, answeredAfterSignal: 0, refused: 0, drainMaxMs: 0 };
      const lostReasons: string[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const running = await startHardeningServer(['--shutdown-grace', String(GRACE_SECONDS)]);
        server = running;
        const agent = new Agent({ keepAlive: true, maxSockets: POOL_SIZE, scheduling: 'lifo', ca: running.ca });
        const outcomes: Outcome[] = [];
        let signalled = false;
        const afterSignal: Outcome[] = [];
        const senders = Array.from({ length: SENDERS }, async () => {
          const stopBy = performance.now() + LOAD_BEFORE_SIGNAL_MS + GRACE_SECONDS * 1000;
          while (performance.now() < stopBy) {
            const outcome = await review(running.child.port, agent);
            outcomes.push(outcome);
            if (signalled) afterSignal.push(outcome);
            // Refused: the server no longer accepts; a client would go to another replica.
            if (outcome.error === 'ECONNREFUSED') break;
          }
        });
        await sleep(LOAD_BEFORE_SIGNAL_MS);
        const signalledAt = performance.now();
        running.child.process.kill('SIGTERM');
        signalled = true;
        await within(GRACE_SECONDS * 1000 + 2000, Promise.all(senders), 'the senders');
        agent.destroy();
        const code = await within(GRACE_SECONDS * 1000 + 5000, running.child.exited, 'the exit');
        expect(code).toBe(0);

        figures.reviews += outcomes.length;
        figures.lost += outcomes.filter(lost).length;
        figures.answeredAfterSignal += afterSignal.filter((outcome) => outcome.answered).length;
        figures.refused += outcomes.filter((outcome) => outcome.error === 'ECONNREFUSED').length;
        figures.drainMaxMs = Math.max(figures.drainMaxMs, Math.round(performance.now() - signalledAt));
        lostReasons.push(...outcomes.filter(lost).map((outcome) => outcome.error ?? 'no answer'));
        await running.stop();
        server = undefined;
      }
      reportFigures('kept-alive race on SIGTERM', { cycles: CYCLES, ...figures });
      expect(figures.reviews).toBeGreaterThan(CYCLES * 20);
      expect(lostReasons).toEqual([]);
    },
    timeLimitMs(CYCLES * (GRACE_SECONDS * 1000 + 10_000)),
  );
});
