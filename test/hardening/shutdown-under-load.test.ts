import type { IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample, remote } from '../fixtures.js';
import { HOST, SOAK_SECONDS, failureReason, reportFigures, sleep, startHardeningServer, timeLimitMs, within, type HardeningServer } from './harness.js';

const GRACE_SECONDS = 10;
/** One shutdown in `npm test`; in a soak, one every 10 s or so, each on a new server. */
const CYCLES = SOAK_SECONDS > 0 ? Math.max(2, Math.floor(SOAK_SECONDS / 10)) : 1;
let server: HardeningServer;

afterEach(async () => {
  // Stopped already when the test went well; killed if it hung.
  await server.stop();
});

interface Outcome {
  /** When the whole request had been written (performance.now()), or undefined if it never was. */
  readonly sentAt: number | undefined;
  readonly status?: number;
  readonly connection?: string | undefined;
  readonly body?: string;
  readonly error?: string;
}

/**
 * One review over `agent`, written in `chunk`-sized pieces every `pauseMs` (so a large one stays in
 * flight a while); records when it was fully sent, and how it ended.
 */
function review(body: Buffer, agent: Agent | false, chunk = body.length, pauseMs = 0, onProgress?: (sent: number) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    let sentAt: number | undefined;
    const req = httpsRequest(
      { host: HOST, port: server.child.port, ca: server.ca, agent, method: 'POST', path: '/validate', headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => resolve({ sentAt, status: res.statusCode, connection: res.headers.connection, body: text }));
        res.on('error', (error) => resolve({ sentAt, status: res.statusCode, error: failureReason(error) }));
      },
    );
    req.on('finish', () => (sentAt = performance.now()));
    req.on('error', (error) => resolve({ sentAt, error: failureReason(error) }));
    let offset = 0;
    const writeNext = (): void => {
      const piece = body.subarray(offset, offset + chunk);
      offset += piece.length;
      onProgress?.(offset);
      if (offset >= body.length) req.end(piece);
      else {
        req.write(piece);
        setTimeout(writeNext, pauseMs);
      }
    };
    writeNext();
  });
}

/** The answer is a whole, well-formed review of `uid` with the expected verdict. */
function answered(outcome: Outcome, uid: string, allowed: boolean): boolean {
  if (outcome.status !== 200 || outcome.body === undefined) return false;
  const { response } = JSON.parse(outcome.body) as { response: { uid: string; allowed: boolean } };
  return response.uid === uid && response.allowed === allowed;
}

describe('SIGTERM under load', () => {
  it(
    'finishes every request in flight, resets no connection whose request was sent before the signal, and exits 0 within the grace period',
    async () => {
      for (let cycle = 0; cycle < CYCLES; cycle++) await shutdownUnderLoad();
    },
    timeLimitMs(30_000) + CYCLES * 30_000,
  );
});

/** Starts a server, loads it with large and small reviews, sends SIGTERM, and checks how everything ended. */
async function shutdownUnderLoad(): Promise<void> {
  server = await startHardeningServer(['--shutdown-grace', String(GRACE_SECONDS)]);
  // Large reviews: an UPDATE of an object with a 3 MiB description that adds an unresolved
  // placeholder (denied: the change introduces it), each sent over about two seconds.
  const large = Array.from({ length: 4 }, (_, i) => {
    const oldObject = remote({ description: 'x'.repeat(3 * 1024 * 1024) });
    const object = { ...oldObject, spec: { ...(oldObject.spec as object), headers: { Authorization: 'Bearer ${TOKEN}' } } };
    return { uid: `large-${i}`, body: Buffer.from(JSON.stringify(admissionReview(object, { uid: `large-${i}`, operation: 'UPDATE', oldObject }))) };
  });
  const small = Buffer.from(JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml'), { uid: 'small' })));
  let halfSent = 0;
  const largeOutcomes = Promise.all(
    large.map(({ body }) => {
      let counted = false;
      return review(body, false, 64 * 1024, 20, (sent) => {
        if (counted || sent < body.length / 2) return;
        counted = true;
        halfSent += 1;
      });
    }),
  );

  // Small reviews on kept-alive connections until the server is gone.
  const smallOutcomes: Outcome[] = [];
  let sending = true;
  const loops = Array.from({ length: 8 }, async () => {
    while (sending) {
      const outcome = await review(small, server.agent);
      smallOutcomes.push(outcome);
      if (outcome.error === 'ECONNREFUSED') break;
    }
  });

  await within(
    15_000,
    (async () => {
      while (halfSent < large.length) await sleep(20);
    })(),
    'sending half of each large review',
  );
  const signalled = performance.now();
  server.child.process.kill('SIGTERM');
  const code = await within(GRACE_SECONDS * 1000 + 5000, server.child.exited, 'the exit');
  const drainMs = performance.now() - signalled;
  sending = false;
  await Promise.all(loops);
  const largeResults = await largeOutcomes;

  const sentBefore = smallOutcomes.filter((outcome) => outcome.sentAt !== undefined && outcome.sentAt < signalled);
  const failedBefore = sentBefore.filter((outcome) => !answered(outcome, 'small', false));
  const after = smallOutcomes.filter((outcome) => !sentBefore.includes(outcome));
  reportFigures('SIGTERM under load', {
    largeInFlight: large.length,
    largeAnswered: largeResults.filter((outcome, i) => answered(outcome, `large-${i}`, false)).length,
    smallSentBefore: sentBefore.length,
    smallFailedBefore: failedBefore.length,
    smallAfter: after.length,
    smallAfterAnswered: after.filter((outcome) => answered(outcome, 'small', false)).length,
    drainMs: Math.round(drainMs),
    exitCode: String(code),
  });
  expect(code).toBe(0);
  expect(drainMs).toBeLessThan(GRACE_SECONDS * 1000);
  largeResults.forEach((outcome, i) => {
    expect(answered(outcome, `large-${i}`, false), JSON.stringify({ ...outcome, body: outcome.body?.slice(0, 200) })).toBe(true);
    expect(outcome.connection).toBe('close');
  });
  expect(sentBefore.length).toBeGreaterThan(10);
  expect(failedBefore.map((outcome) => outcome.error ?? outcome.status)).toEqual([]);
  // Sent after the signal: refused or closed before any answer (a client tries another replica), or answered in full.
  for (const outcome of after) expect(outcome.status === undefined || answered(outcome, 'small', false)).toBe(true);
  expect(server.child.logs().at(-1)).toMatchObject({ event: 'stopped' });
}
