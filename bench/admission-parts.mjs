// What each part of the admission path costs, in process and without the network: parsing the
// review (what the floor does too), judging it and shaping the answer, serializing the answer,
// the metrics, and the decision line. Each part is timed hot (back to back, as at high
// concurrency) and cold (one review every 5 ms, as the API server calls a webhook, when the
// caches have gone cold in between). Needs the build: `npm run bench:parts`.
//
//   node bench/admission-parts.mjs [--seconds 1] [--rounds 3] [--cold 400]
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { positiveNumber, readOptions, requireBuild } from './command.mjs';
import { median, table } from './stats.mjs';

const SCRIPT = 'bench/admission-parts.mjs';
const values = readOptions(
  SCRIPT,
  { seconds: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' }, cold: { type: 'string', default: '400' } },
  `${SCRIPT} [--seconds N] [--rounds N] [--cold N]`,
);
const seconds = positiveNumber(SCRIPT, '--seconds', values.seconds, { fractions: true });
const rounds = positiveNumber(SCRIPT, '--rounds', values.rounds);
const coldReviews = positiveNumber(SCRIPT, '--cold', values.cold);
/** The paced mode's interval: the caches go cold in between, as they do between the API server's calls. */
const PAUSE_MS = 5;

requireBuild(SCRIPT);
const { Policy } = await import('../dist/engine/index.js');
const { judgeReview, recordDecision } = await import('../dist/server/review-handler.js');
const { SchemaDriftLog } = await import('../dist/server/judge.js');
const { createLogger } = await import('../dist/telemetry/logger.js');
const { WebhookMetrics } = await import('../dist/telemetry/metrics.js');
const { buildPayloads } = await import('./payloads.mjs');

const texts = buildPayloads().map((payload) => payload.body);
const bodies = texts.map((text) => JSON.parse(text));
const policy = Policy.builtIn();
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const deps = (level) => {
  const logger = createLogger(level, discard);
  const metrics = new WebhookMetrics();
  return { policy: () => policy, metrics, logger, drift: new SchemaDriftLog(logger, metrics) };
};
const quiet = deps('warn');
const logging = deps('info');
const judged = bodies.map((body) => judgeReview(body, quiet));
const now = process.hrtime.bigint();

/** Each part, on review `i` of the mix. */
const PARTS = {
  'JSON.parse of the review (the floor does it too)': (i) => JSON.parse(texts[i]),
  'judge and shape the answer (judgeReview)': (i) => judgeReview(bodies[i], quiet),
  'serialize the answer (JSON.stringify)': (i) => JSON.stringify(judged[i].answer),
  'metrics of the decision (recordDecision, log off)': (i) => recordDecision(judged[i], now, now, quiet),
  'metrics and the decision line (recordDecision)': (i) => recordDecision(judged[i], now, now, logging),
  'label look-ups alone (requests and findings counters)': (i) => {
    const { request, verdict } = judged[i];
    quiet.metrics.requests.inc({ operation: request.operation, decision: 'allowed' });
    for (const { rule, action } of verdict?.denials ?? []) quiet.metrics.findings.inc({ rule, action });
  },
};

/** Microseconds per call of `work`, back to back for about `seconds`, over the whole mix in turn. */
function hot(work) {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let calls = 0;
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < texts.length; i++) work(i);
    calls += texts.length;
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / calls;
}

/** The median microseconds of `work` run alone after a pause of PAUSE_MS, `coldReviews` times. */
async function cold(work) {
  const times = [];
  for (let n = 0; n < coldReviews; n++) {
    await sleep(PAUSE_MS);
    const start = process.hrtime.bigint();
    work(n % texts.length);
    times.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  return median(times);
}

for (const work of Object.values(PARTS)) hot(work); // warm-up: V8 optimizes every part first
const figures = Object.fromEntries(Object.keys(PARTS).map((name) => [name, { hot: [], cold: [] }]));
for (let round = 0; round < rounds; round++) {
  for (const [name, work] of Object.entries(PARTS)) {
    figures[name].hot.push(hot(work));
    figures[name].cold.push(await cold(work));
  }
}

console.log(`Parts of the admission path, in process: µs per review, median of ${rounds} rounds`);
console.log(`hot: back to back for ${seconds} s; cold: ${coldReviews} reviews each after ${PAUSE_MS} ms of idling\n`);
const format = (value) => value.toFixed(1);
console.log(table([['part', 'hot µs', 'cold µs'], ...Object.entries(figures).map(([name, { hot: h, cold: c }]) => [name, format(median(h)), format(median(c))])]));
