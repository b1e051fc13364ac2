// The load generator, in a process of its own so that it never shares a core's event loop with
// the server it measures. autocannon drives HTTPS keep-alive connections, each sending the
// reviews of the mix in turn; every response time is kept (autocannon's own histogram has a
// resolution of 1 ms, too coarse for answers that take a fraction of one).
//
//   node bench/load.mjs '{"url":...,"connections":16,"seconds":10,"payloadsFile":...,"latenciesFile":...}'
//
// With "paceMs", one kept-alive connection sends a review every paceMs milliseconds instead,
// as the API server calls a webhook, and the time of each exchange is taken around it; SIGTERM
// ends it early, with what it measured so far written as usual.
//
// Prints one JSON line with the counts; writes the latencies (ms, float64) to latenciesFile.
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';

const { url, connections, seconds, payloadsFile, latenciesFile, paceMs } = JSON.parse(process.argv[2]);
const payloads = JSON.parse(readFileSync(payloadsFile, 'utf8'));

let latencies = new Float64Array(1 << 16);
let count = 0;
const statuses = {};

function record(statusCode, responseTime) {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = responseTime;
}

if (paceMs !== undefined) {
  const cpuBefore = process.cpuUsage();
  const result = await paced();
  const cpu = process.cpuUsage(cpuBefore);
  writeFileSync(latenciesFile, latencies.subarray(0, count));
  console.log(JSON.stringify({ ...result, statuses, loaderCpuSeconds: (cpu.user + cpu.system) / 1e6 }));
  process.exit(0);
}

/**
 * One connection, kept alive (the server's certificate is not checked: loopback only), a review
 * sent every `paceMs` on a fixed schedule; a late answer delays only the next review.
 */
async function paced() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
  const bodies = payloads.map(({ body }) => Buffer.from(body));
  const { hostname, port, pathname } = new URL(url);
  let errors = 0;
  const exchange = (body) =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = request({ host: hostname, port, path: pathname, method: 'POST', agent, servername: 'localhost', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          record(res.statusCode, Number(process.hrtime.bigint() - started) / 1e6);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  const start = performance.now();
  for (let n = 0; !stopping && performance.now() - start < seconds * 1000; n++) {
    await exchange(bodies[n % bodies.length]);
    const wait = start + (n + 1) * paceMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  agent.destroy();
  return { responses: count, seconds: (performance.now() - start) / 1000, errors, timeouts: 0, non2xx: count - (statuses[200] ?? 0) };
}

const instance = autocannon({
  url,
  connections,
  pipelining: 1,
  duration: seconds,
  servername: 'localhost',
  requests: payloads.map(({ body }) => ({ method: 'POST', path: '/validate', headers: { 'content-type': 'application/json' }, body })),
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => record(statusCode, responseTime));

const cpuBefore = process.cpuUsage();
const result = await instance;
const cpu = process.cpuUsage(cpuBefore);
writeFileSync(latenciesFile, latencies.subarray(0, count));
console.log(
  JSON.stringify({
    responses: count,
    seconds: result.duration,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    loaderCpuSeconds: (cpu.user + cpu.system) / 1e6,
  }),
);
