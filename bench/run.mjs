// `npm run bench`: the webhook against the bare-Node ceiling and floor, side by side in one run.
//
//   npm run bench [-- --seconds 10 --rounds 2 --concurrency 1,16,64]
//   npm run bench -- --soak 60      RSS over a minute of load, to catch a leak
//   npm run bench -- --profile      a CPU profile of the webhook under load, and where its time goes
//
// The servers run as child processes with the same certificate, TLS settings and environment
// (bench/ceiling-server.mjs tells the ceiling from the floor); the load comes from a process of
// its own (bench/load.mjs). Each concurrency is measured in rounds in which the servers take
// turns, ceiling, floor, webhook, ceiling, floor, webhook, so that the machine's drift falls on all.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyChart } from './chart.mjs';
import { positiveNumber, readOptions, requireBuild } from './command.mjs';
import { summarizeProfile } from './profile.mjs';
import { fileStamp, formatInteger, formatMiB, formatMs, formatRatio, latencySummary, table } from './stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');

/** The issue's targets, checked at concurrency 16. */
const TARGETS = { concurrency: 16, minRatio: 0.7, maxP99Ms: 5, maxRssBytes: 150 * 1024 * 1024 };

const NAMES = {
  ceiling: 'node:https (ceiling)',
  floor: 'node:https + JSON.parse (floor)',
  webhook: 'mcpserver-webhook',
};

const SCRIPT = 'bench/run.mjs';
const options = readOptions(
  SCRIPT,
  {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,16,64' },
    soak: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  `${SCRIPT} [--seconds N] [--rounds N] [--concurrency N,N,...] [--soak N | --profile]`,
);
const seconds = positiveNumber(SCRIPT, '--seconds', options.seconds);
const rounds = positiveNumber(SCRIPT, '--rounds', options.rounds);
const levels = options.concurrency.split(',').map((level) => positiveNumber(SCRIPT, '--concurrency', level));
const soakSeconds = options.soak === undefined ? undefined : positiveNumber(SCRIPT, '--soak', options.soak);

// payloads.mjs imports the build, so a missing dist/ must be caught before it is loaded.
requireBuild(SCRIPT);
const { buildPayloads, describeMix } = await import('./payloads.mjs');

const work = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-bench-'));
const payloads = buildPayloads();
const payloadsFile = join(work, 'payloads.json');
writeFileSync(payloadsFile, JSON.stringify(payloads));

const servers = [];
try {
  const { ensureDevCertificates } = await import('../dist/server/certificates.js');
  const { caFile } = await ensureDevCertificates(join(work, 'certs'));
  const ca = readFileSync(caFile);
  const ceilingArgs = [join(ROOT, 'bench', 'ceiling-server.mjs'), '--cert-dir', join(work, 'certs')];
  const webhookArgs = [join(ROOT, 'bin', 'mcpserver-webhook.js'), 'serve', '--cert-dir', join(work, 'certs')];
  const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'profile')}`] : [];
  // Each is stopped in `finally` as soon as it runs, even if the next fails to start.
  const ceiling = servers[servers.push(await startServer('ceiling', NAMES.ceiling, ceilingArgs, ca)) - 1];
  const floor = servers[servers.push(await startServer('floor', NAMES.floor, [...ceilingArgs, '--parse'], ca)) - 1];
  const webhook = servers[servers.push(await startServer('webhook', NAMES.webhook, [...profiling, ...webhookArgs], ca)) - 1];
  await checkAnswers(webhook, ca);
  console.log(`mix: ${JSON.stringify(describeMix(payloads))}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${formatMiB(totalmem())}, Node.js ${process.version}\n`);
  for (const server of servers) await trial(server, 16, 3); // warm-up: JIT, TLS sessions, caches

  if (soakSeconds !== undefined) await soak([ceiling, webhook], soakSeconds);
  else if (options.profile) await profile(webhook);
  else await compare(servers);
} finally {
  await Promise.all(servers.map(stopServer));
  rmSync(work, { recursive: true, force: true });
}

/** The comparison: every concurrency, `rounds` rounds in which each server takes its turn. */
async function compare(all) {
  const trials = [];
  for (const connections of levels) {
    for (let round = 0; round < rounds; round++) {
      for (const server of all) {
        const result = await trial(server, connections, seconds);
        process.stderr.write(`  c${connections} round ${round + 1} ${server.name}: ${formatInteger(result.rps)} req/s\n`);
        trials.push(result);
      }
    }
  }
  const summary = levels.map((connections) => ({
    connections,
    ...Object.fromEntries(all.map((server) => [server.key, combine(trials.filter((t) => t.server === server.name && t.connections === connections))])),
  }));
  printSummary(summary);
  const run = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
    options: { seconds, rounds, concurrency: levels },
    mix: describeMix(payloads),
    servers: NAMES,
    summary,
    trials: trials.map(({ latencies: _latencies, ...figures }) => figures),
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `bench-${fileStamp()}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'latency.svg'), latencyChart(chartReport(run)));
  console.log(`\nraw results: ${relative(file)}; chart: ${relative(join(RESULTS, 'latency.svg'))}`);
}

/**
 * Soak: each server under load at concurrency 16 for `soakSeconds`, with its RSS every second.
 * The heap grows in steps during the first seconds of load, so growth is counted from the
 * tenth second on; the ceiling's own growth over the same time is the noise to compare with.
 */
async function soak([ceiling, webhook], soakSeconds) {
  const settled = Math.min(10, Math.floor(soakSeconds / 2));
  const rows = [['server', 'req/s', 'RSS at 1 s', `at ${settled} s`, `at ${Math.round(soakSeconds / 2)} s`, 'at end', 'peak', `growth after ${settled} s`]];
  const report = [];
  for (const server of [ceiling, webhook]) {
    const result = await trial(server, 16, soakSeconds, 1000);
    // rssSamples[n] is the RSS n seconds into the load (the 0th is taken as it starts).
    const at = (second) => result.rssSamples[Math.min(second, result.rssSamples.length - 1)];
    const growth = at(Number.MAX_SAFE_INTEGER) - at(settled);
    rows.push([
      server.name,
      formatInteger(result.rps),
      formatMiB(at(1)),
      formatMiB(at(settled)),
      formatMiB(at(Math.round(soakSeconds / 2))),
      formatMiB(at(Number.MAX_SAFE_INTEGER)),
      formatMiB(result.peakRssBytes),
      `${formatMiB(growth)} (${((growth / at(settled)) * 100).toFixed(1)}%)`,
    ]);
    report.push({ server: server.name, rps: result.rps, rssSamples: result.rssSamples });
  }
  console.log(`soak: ${soakSeconds} s at concurrency 16 each; RSS sampled every second\n`);
  console.log(table(rows));
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `soak-${fileStamp()}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), seconds: soakSeconds, report }, null, 2)}\n`);
  console.log(`\nraw results: ${relative(file)}`);
}

/** A CPU profile of the webhook at concurrency 16, summarized by where the time goes. */
async function profile(webhook) {
  await trial(webhook, 16, seconds);
  await stopServer(webhook);
  const dir = join(work, 'profile');
  const [name] = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  if (!name) throw new Error('the webhook wrote no CPU profile');
  mkdirSync(RESULTS, { recursive: true });
  const kept = join(RESULTS, `webhook-${fileStamp()}.cpuprofile`);
  const text = readFileSync(join(dir, name), 'utf8');
  writeFileSync(kept, text);
  console.log(summarizeProfile(JSON.parse(text), ROOT, webhook.requests));
  console.log(`\nprofile: ${relative(kept)} (open it in Chrome DevTools, Performance tab)`);
}

/** One server under load for `trialSeconds`, with its RSS and CPU time watched from outside. */
async function trial(server, connections, trialSeconds, rssEveryMs = 100) {
  const latenciesFile = join(work, 'latencies.bin');
  const cpuBefore = cpuSeconds(server.pid);
  const rssSamples = [residentBytes(server.pid)];
  const sampler = setInterval(() => rssSamples.push(residentBytes(server.pid)), rssEveryMs);
  let load;
  try {
    load = await runLoad({ url: `https://127.0.0.1:${server.port}/validate`, connections, seconds: trialSeconds, payloadsFile, latenciesFile });
  } finally {
    clearInterval(sampler);
  }
  rssSamples.push(residentBytes(server.pid));
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  server.requests += load.responses;
  const buffer = readFileSync(latenciesFile);
  const latencies = new Float64Array(buffer.byteLength / 8);
  new Uint8Array(latencies.buffer).set(buffer); // a copy: the Buffer's own offset need not be a multiple of 8
  // autocannon counts a timeout among its errors too.
  const errors = load.errors + load.non2xx;
  return {
    server: server.name,
    connections,
    seconds: load.seconds,
    responses: load.responses,
    rps: load.responses / load.seconds,
    errors,
    statuses: load.statuses,
    ...latencySummary(latencies),
    peakRssBytes: Math.max(...rssSamples),
    serverCpuSeconds: cpu,
    loaderCpuSeconds: load.loaderCpuSeconds,
    rssSamples,
    latencies,
  };
}

/** The rounds of one server at one concurrency, as one: all their latencies, all their time. */
function combine(trialsOfOne) {
  const latencies = new Float64Array(trialsOfOne.reduce((sum, t) => sum + t.latencies.length, 0));
  trialsOfOne.reduce((offset, t) => (latencies.set(t.latencies, offset), offset + t.latencies.length), 0);
  const responses = trialsOfOne.reduce((sum, t) => sum + t.responses, 0);
  const time = trialsOfOne.reduce((sum, t) => sum + t.seconds, 0);
  const cpu = trialsOfOne.reduce((sum, t) => sum + t.serverCpuSeconds, 0);
  return {
    rps: responses / time,
    roundsRps: trialsOfOne.map((t) => t.rps),
    responses,
    errors: trialsOfOne.reduce((sum, t) => sum + t.errors, 0),
    ...latencySummary(latencies),
    peakRssBytes: Math.max(...trialsOfOne.map((t) => t.peakRssBytes)),
    serverCpuMsPerRequest: (cpu / responses) * 1000,
    serverCpuShare: cpu / time,
  };
}

function printSummary(summary) {
  for (const entry of summary) {
    const { connections, ceiling, floor, webhook } = entry;
    console.log(`\nconcurrency ${connections}: ${rounds} rounds of ${seconds} s per server, taking turns`);
    const row = (key) => [
      NAMES[key],
      formatInteger(entry[key].rps),
      formatMs(entry[key].p50),
      formatMs(entry[key].p90),
      formatMs(entry[key].p99),
      formatMs(entry[key].max),
      formatInteger(entry[key].errors),
      formatMiB(entry[key].peakRssBytes),
      formatMs(entry[key].serverCpuMsPerRequest),
    ];
    console.log(table([['server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'peak RSS', 'CPU ms/req'], row('ceiling'), row('floor'), row('webhook')]));
    console.log(
      `throughput: webhook / ceiling ${formatRatio(webhook.rps / ceiling.rps)}, webhook / floor ${formatRatio(webhook.rps / floor.rps)}, floor / ceiling ${formatRatio(floor.rps / ceiling.rps)}; ` +
        `CPU per request: webhook / ceiling ${formatRatio(webhook.serverCpuMsPerRequest / ceiling.serverCpuMsPerRequest)}`,
    );
  }
  const at = summary.find((entry) => entry.connections === TARGETS.concurrency);
  if (!at) return;
  const peakRss = Math.max(...summary.map((entry) => entry.webhook.peakRssBytes));
  const checks = [
    [`throughput at c${TARGETS.concurrency} >= ${TARGETS.minRatio} of the ceiling`, at.webhook.rps / at.ceiling.rps >= TARGETS.minRatio, formatRatio(at.webhook.rps / at.ceiling.rps)],
    [`p99 at c${TARGETS.concurrency} < ${TARGETS.maxP99Ms} ms`, at.webhook.p99 < TARGETS.maxP99Ms, `${formatMs(at.webhook.p99)} ms`],
    [`peak RSS < ${formatMiB(TARGETS.maxRssBytes)}`, Number.isNaN(peakRss) ? undefined : peakRss < TARGETS.maxRssBytes, formatMiB(peakRss)],
    ['no errors', summary.every((entry) => Object.keys(NAMES).every((key) => entry[key].errors === 0)), ''],
  ];
  console.log('\ntargets:');
  const verdict = (met) => (met === undefined ? 'n/a   ' : met ? 'met   ' : 'MISSED');
  for (const [what, met, figure] of checks) console.log(`  ${verdict(met)}  ${what}${figure ? `: ${figure}` : ''}`);
}

function chartReport(run) {
  const byConcurrency = (side) => Object.fromEntries(run.summary.map((entry) => [entry.connections, entry[side]]));
  return {
    title: `Admission latency and throughput, ${run.machine.cpus} cores, ${run.options.rounds} × ${run.options.seconds} s per point (${run.date.slice(0, 10)})`,
    concurrency: run.options.concurrency,
    servers: [
      { name: NAMES.ceiling, byConcurrency: byConcurrency('ceiling') },
      { name: NAMES.webhook, byConcurrency: byConcurrency('webhook') },
    ],
  };
}

/** Every review of the mix, once, must get the answer the engine gives it: the webhook is doing the real work. */
async function checkAnswers(webhook, ca) {
  for (const payload of payloads) {
    const { status, body } = await post(webhook.port, '/validate', payload.body, ca);
    const review = JSON.parse(body);
    const { uid } = JSON.parse(payload.body).request;
    const answered = !review.response?.allowed ? 'denied' : review.response.warnings?.length ? 'warned' : 'allowed';
    if (status !== 200 || review.response?.uid !== uid || answered !== payload.expected) {
      throw new Error(`the webhook answered ${uid} with ${status} ${answered}; the engine says ${payload.expected}`);
    }
  }
}

async function startServer(key, name, args, ca) {
  const port = await freePort();
  const log = join(work, `${key}.log`);
  // The same small environment for both: nothing of the caller's (PORT, LOG_LEVEL, ...) leaks in.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir() };
  const child = spawn(process.execPath, [...args, '--port', String(port)], { cwd: ROOT, env, stdio: ['ignore', openSync(log, 'w'), 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answer = await get(port, '/healthz', ca).catch(() => undefined);
    if (answer?.status === 200) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${name} did not start: ${stderr || readFileSync(log, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { key, name, port, pid: child.pid, child, exited, log, requests: 0 };
}

async function stopServer(server) {
  if (server.child.exitCode === null) server.child.kill('SIGTERM');
  await server.exited;
}

function runLoad(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'load.mjs'), JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`the load generator failed (exit ${code})`))));
  });
}

function post(port, path, body, ca) {
  return exchange({ port, path, method: 'POST', headers: { 'content-type': 'application/json' }, ca }, body);
}

function get(port, path, ca) {
  return exchange({ port, path, method: 'GET', ca });
}

function exchange(requestOptions, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', ...requestOptions }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.once('error', reject);
    req.end(body);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resident set size of a process, from /proc (Linux); NaN elsewhere, printed as n/a. */
function residentBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readProc(pid, 'status'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** User plus system CPU time a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid) {
  const fields = readProc(pid, 'stat').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat; after the command name they are 12 and 13 (from 1).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

function relative(file) {
  return file.startsWith(ROOT) ? file.slice(ROOT.length) : file;
}
