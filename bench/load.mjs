// The load generator, in a process of its own so that it never shares a core's event loop with
// the server it measures. autocannon drives HTTPS keep-alive connections, each sending the
// reviews of the mix in turn; every response time is kept (autocannon's own histogram has a
// resolution of 1 ms, too coarse for answers that take a fraction of one).
//
//   node bench/load.mjs '{"url":...,"connections":16,"seconds":10,"payloadsFile":...,"latenciesFile":...}'
//
// Prints one JSON line with the counts; writes the latencies (ms, float64) to latenciesFile.
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';

const { url, connections, seconds, payloadsFile, latenciesFile } = JSON.parse(process.argv[2]);
const payloads = JSON.parse(readFileSync(payloadsFile, 'utf8'));

let latencies = new Float64Array(1 << 16);
let count = 0;
const statuses = {};

const instance = autocannon({
  url,
  connections,
  pipelining: 1,
  duration: seconds,
  servername: 'localhost',
  requests: payloads.map(({ body }) => ({ method: 'POST', path: '/validate', headers: { 'content-type': 'application/json' }, body })),
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = responseTime;
});

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
