// `npm run bench`: the webhook against the bare-Node ceiling and floor, side by side in one run,
// with its variant whose admission route goes through express's router.
//
//   npm run bench [-- --seconds 10 --rounds 2 --concurrency 1,16,64 --pace 5]
//   npm run bench -- --servers floor,webhook --baseline ../other-checkout   this build against others (repeatable)
//   npm run bench -- --soak 60      RSS over a minute of load, to catch a leak
//   npm run bench -- --profile --concurrency 16   a CPU profile of the webhook under load, and where its time goes
//
// The servers run as child processes with the same certificate, TLS settings and environment
// (bench/ceiling-server.mjs tells the ceiling from the floor); the load comes from a process of
// its own (bench/load.mjs). Each concurrency is measured in rounds in which the servers take
// turns, ceiling, floor, webhook, ceiling, floor, webhook, so that the machine's drift falls on
// all; then the paced mode, one connection with a review every --pace ms, in the same turns.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { latencyChart } from './chart.mjs';
import { cpuSeconds, imageNodeFlags, readLatencies, residentBytes, startLoad } from './children.mjs';
import { positiveNumber, readOptions, requireBuild, usageError } from './command.mjs';
import { summarizeProfile } from './profile.mjs';
import { fileStamp, formatInteger, formatMiB, formatMs, formatRatio, latencySummary, table } from './stats.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');

/** The targets, against the floor in the same run: throughput ratios by concurrency, the paced mode's margins. */
const TARGETS = {
  minFloorRatio: { 1: 0.75, 16: 0.5 },
  pacedP50MarginMs: 0.1,
  pacedP99MarginMs: 0.5,
  maxRssBytes: 120 * 1024 * 1024,
};

/**
 * When the admission route inside express costs more than this against the served webhook, the
 * route is answered before express's router (src/server/app.ts).
 */
const EXPRESS_LIMITS = { maxThroughputLoss: 0.1, maxP50AddedMsAtC1: 0.05 };

const ALL_NAMES = {
  ceiling: 'node:https (ceiling)',
  floor: 'node:https + JSON.parse (floor)',
  webhook: 'mcpserver-webhook',
  express: 'webhook, admission in express',
};

const SCRIPT = 'bench/run.mjs';
const options = readOptions(
  SCRIPT,
  {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '1,16,64' },
    pace: { type: 'string', default: '5' },
    servers: { type: 'string', default: 'ceiling,floor,webhook,express' },
    baseline: { type: 'string', multiple: true, default: [] },
    soak: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
  `${SCRIPT} [--seconds N] [--rounds N] [--concurrency N,N,...] [--pace MS] [--servers ceiling,floor,webhook,express] [--baseline DIR ...] [--soak N | --profile]`,
);
const seconds = positiveNumber(SCRIPT, '--seconds', options.seconds);
const rounds = positiveNumber(SCRIPT, '--rounds', options.rounds);
const levels = options.concurrency.split(',').map((level) => positiveNumber(SCRIPT, '--concurrency', level));
const soakSeconds = options.soak === undefined ? undefined : positiveNumber(SCRIPT, '--soak', options.soak);
const paceMs = positiveNumber(SCRIPT, '--pace', options.pace, { fractions: true });
const chosen = options.servers.split(',');
for (const key of chosen) if (!['ceiling', 'floor', 'webhook', 'express'].includes(key)) usageError(SCRIPT, `--servers takes ceiling, floor, webhook and express, not ${JSON.stringify(key)}`);
// Baselines: other checkouts of the project, built, whose webhooks take their turns with the others.
const baselines = options.baseline.map((dir, index) => {
  const root = resolvePath(dir);
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) usageError(SCRIPT, `--baseline ${dir} holds no built checkout (dist/cli/main.js): run npm ci there`);
  return { key: `baseline${index + 1}`, name: `mcpserver-webhook at ${basename(root)}`, root };
});
const NAMES = {
  ...Object.fromEntries(Object.entries(ALL_NAMES).filter(([key]) => chosen.includes(key))),
  ...Object.fromEntries(baselines.map(({ key, name }) => [key, name])),
};

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
  const certDir = join(work, 'certs');
  const ceilingArgs = [join(ROOT, 'bench', 'ceiling-server.mjs'), '--cert-dir', certDir];
  // The webhook runs with the node flags of its container image, as it runs in a cluster.
  const webhookArgs = (root) => [...imageNodeFlags(root), join(root, 'bin', 'mcpserver-webhook.js'), 'serve', '--cert-dir', certDir];
  const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(work, 'profile')}`] : [];
  const commands = {
    ceiling: ceilingArgs,
    floor: [...ceilingArgs, '--parse'],
    webhook: [...profiling, ...webhookArgs(ROOT)],
    express: [...imageNodeFlags(ROOT), join(ROOT, 'bench', 'express-admission-server.mjs'), '--cert-dir', certDir],
    ...Object.fromEntries(baselines.map(({ key, root }) => [key, webhookArgs(root)])),
  };
  const rootOf = (key) => baselines.find((baseline) => baseline.key === key)?.root ?? ROOT;
  // Each is pushed as soon as it runs, so that `finally` stops it even if the next fails to start.
  for (const key of Object.keys(NAMES)) servers.push(await startServer(key, NAMES[key], commands[key], ca, rootOf(key)));
  for (const server of servers) if (server.key !== 'ceiling' && server.key !== 'floor') await checkAnswers(server, ca);
  console.log(`mix: ${JSON.stringify(describeMix(payloads))}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${formatMiB(totalmem())}, Node.js ${process.version}\n`);
  for (const server of servers) await trial(server, 16, 3); // warm-up: JIT, TLS sessions, caches

  const webhook = servers.find((server) => server.key === 'webhook');
  const ceiling = servers.find((server) => server.key === 'ceiling');
  if (soakSeconds !== undefined) await soak([ceiling, webhook].filter(Boolean), soakSeconds);
  else if (options.profile) await profile(webhook);
  else await compare(servers);
} finally {
  await Promise.all(servers.map(stopServer));
  rmSync(work, { recursive: true, force: true });
}

/**
 * The comparison: every concurrency, then the paced mode, `rounds` rounds in which each server
 * takes its turn. A paced entry has `connections: 'paced'`.
 */
async function compare(all) {
  const trials = [];
  const turns = [...levels, 'paced'];
  for (const connections of turns) {
    for (let round = 0; round < rounds; round++) {
      // Each round begins with the next server, so that none always follows the same one.
      for (const server of [...all.slice(round % all.length), ...all.slice(0, round % all.length)]) {
        const result = await trial(server, connections, seconds);
        process.stderr.write(`  ${connections === 'paced' ? 'paced' : `c${connections}`} round ${round + 1} ${server.name}: ${formatInteger(result.rps)} req/s, p50 ${formatMs(result.p50)} ms\n`);
        trials.push(result);
      }
    }
  }
  const summary = turns.map((connections) => ({
    connections,
    ...Object.fromEntries(all.map((server) => [server.key, combine(trials.filter((t) => t.server === server.name && t.connections === connections))])),
  }));
  printSummary(summary);
  const run = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version },
    options: { seconds, rounds, concurrency: levels, paceMs, baselines: baselines.map(({ name, root }) => ({ name, root: basename(root) })) },
    mix: describeMix(payloads),
    servers: NAMES,
    summary,
    trials: trials.map(({ latencies: _latencies, ...figures }) => figures),
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `bench-${fileStamp()}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  let chart = '';
  if (NAMES.floor && NAMES.webhook) {
    writeFileSync(join(RESULTS, 'latency.svg'), latencyChart(chartReport(run)));
    chart = `; chart: ${relative(join(RESULTS, 'latency.svg'))}`;
  }
  console.log(`\nraw results: ${relative(file)}${chart}`);
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

/** A CPU profile of the webhook at the first --concurrency, summarized by where the time goes. */
async function profile(webhook) {
  await trial(webhook, levels[0], seconds);
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

/** One server under load for `trialSeconds` (`connections` a number, or 'paced'), with its RSS and CPU time watched from outside. */
async function trial(server, connections, trialSeconds, rssEveryMs = 100) {
  const latenciesFile = join(work, 'latencies.bin');
  const cpuBefore = cpuSeconds(server.pid);
  const rssSamples = [residentBytes(server.pid)];
  const sampler = setInterval(() => rssSamples.push(residentBytes(server.pid)), rssEveryMs);
  let load;
  try {
    const pacing = connections === 'paced' ? { connections: 1, paceMs } : { connections };
    load = await startLoad({ url: `https://127.0.0.1:${server.port}/validate`, ...pacing, seconds: trialSeconds, payloadsFile, latenciesFile }).result;
  } finally {
    clearInterval(sampler);
  }
  rssSamples.push(residentBytes(server.pid));
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  server.requests += load.responses;
  const latencies = readLatencies(latenciesFile);
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
  const keys = Object.keys(NAMES);
  const ratio = (entry, key, of) => (entry[of] ? formatRatio(entry[key].rps / entry[of].rps) : 'n/a');
  for (const entry of summary) {
    const { connections } = entry;
    const paced = connections === 'paced';
    console.log(`\n${paced ? `paced: one connection, a review every ${paceMs} ms` : `concurrency ${connections}`}: ${rounds} rounds of ${seconds} s per server, taking turns`);
    const row = (key) => [
      NAMES[key],
      formatInteger(entry[key].rps),
      entry.floor ? ratio(entry, key, 'floor') : '',
      formatMs(entry[key].p50),
      formatMs(entry[key].p90),
      formatMs(entry[key].p99),
      formatMs(entry[key].max),
      formatInteger(entry[key].errors),
      formatMiB(entry[key].peakRssBytes),
      formatMs(entry[key].serverCpuMsPerRequest),
    ];
    console.log(table([['server', 'req/s', '/ floor', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'peak RSS', 'CPU ms/req'], ...keys.map(row)]));
  }
  const floorChecks = [];
  const webhookAt = (connections) => summary.find((entry) => entry.connections === connections);
  if (NAMES.floor && NAMES.webhook) {
    for (const [connections, minRatio] of Object.entries(TARGETS.minFloorRatio)) {
      const at = webhookAt(Number(connections));
      if (!at) continue;
      const value = at.webhook.rps / at.floor.rps;
      floorChecks.push([`throughput at c${connections} >= ${minRatio} of the floor`, value >= minRatio, formatRatio(value)]);
    }
    const paced = webhookAt('paced');
    const p50Margin = paced.webhook.p50 - paced.floor.p50;
    const p99Margin = paced.webhook.p99 - paced.floor.p99;
    floorChecks.push([`paced p50 within ${TARGETS.pacedP50MarginMs} ms of the floor's`, p50Margin <= TARGETS.pacedP50MarginMs, `${signedMs(p50Margin)} ms`]);
    floorChecks.push([`paced p99 within ${TARGETS.pacedP99MarginMs} ms of the floor's`, p99Margin <= TARGETS.pacedP99MarginMs, `${signedMs(p99Margin)} ms`]);
  }
  if (NAMES.webhook) {
    const peakRss = Math.max(...summary.filter((entry) => entry.connections !== 'paced').map((entry) => entry.webhook.peakRssBytes));
    floorChecks.push([`peak RSS under load < ${formatMiB(TARGETS.maxRssBytes)}`, Number.isNaN(peakRss) ? undefined : peakRss < TARGETS.maxRssBytes, formatMiB(peakRss)]);
  }
  floorChecks.push(['no errors', summary.every((entry) => keys.every((key) => entry[key].errors === 0)), '']);
  console.log('\ntargets:');
  const verdict = (met) => (met === undefined ? 'n/a   ' : met ? 'met   ' : 'MISSED');
  for (const [what, met, figure] of floorChecks) console.log(`  ${verdict(met)}  ${what}${figure ? `: ${figure}` : ''}`);
  if (NAMES.webhook && NAMES.express) printExpressDecision(summary);
}

/** What the admission route inside express costs against the served webhook, and what follows. */
function printExpressDecision(summary) {
  console.log('\nthe admission route inside express, against the served webhook:');
  const reasons = [];
  for (const entry of summary) {
    if (entry.connections === 'paced') continue;
    const loss = 1 - entry.express.rps / entry.webhook.rps;
    const addedP50 = entry.express.p50 - entry.webhook.p50;
    const cpu = entry.express.serverCpuMsPerRequest - entry.webhook.serverCpuMsPerRequest;
    console.log(`  c${entry.connections}: throughput ${signedPercent(-loss)}, p50 ${signedMs(addedP50)} ms, CPU ${signedMs(cpu)} ms a review`);
    if (loss > EXPRESS_LIMITS.maxThroughputLoss) reasons.push(`c${entry.connections} loses ${(loss * 100).toFixed(0)}% of throughput`);
    if (entry.connections === 1 && addedP50 > EXPRESS_LIMITS.maxP50AddedMsAtC1) reasons.push(`c1 adds ${formatMs(addedP50)} ms at p50`);
  }
  const paced = summary.find((entry) => entry.connections === 'paced');
  console.log(`  paced: p50 ${signedMs(paced.express.p50 - paced.webhook.p50)} ms, p99 ${signedMs(paced.express.p99 - paced.webhook.p99)} ms`);
  const limits = `more than ${EXPRESS_LIMITS.maxThroughputLoss * 100}% of throughput or ${EXPRESS_LIMITS.maxP50AddedMsAtC1} ms at p50 at c1`;
  console.log(
    reasons.length > 0
      ? `  => answer the admission route before express's router: ${reasons.join(', ')} (limit: ${limits})`
      : `  => express may route the admission path: it costs no ${limits}`,
  );
}

function signedMs(value) {
  return `${value >= 0 ? '+' : '−'}${formatMs(Math.abs(value))}`;
}

function signedPercent(value) {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value * 100).toFixed(1)}%`;
}

function chartReport(run) {
  const levelsOnly = run.summary.filter((entry) => entry.connections !== 'paced');
  const byConcurrency = (side) => Object.fromEntries(levelsOnly.map((entry) => [entry.connections, entry[side]]));
  return {
    title: `Admission latency and throughput, ${run.machine.cpus} cores, ${run.options.rounds} × ${run.options.seconds} s per point (${run.date.slice(0, 10)})`,
    concurrency: run.options.concurrency,
    servers: [
      { name: NAMES.floor, byConcurrency: byConcurrency('floor') },
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

async function startServer(key, name, args, ca, cwd) {
  const port = await freePort();
  const log = join(work, `${key}.log`);
  // The same small environment for both: nothing of the caller's (PORT, LOG_LEVEL, ...) leaks in.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir() };
  const child = spawn(process.execPath, [...args, '--port', String(port)], { cwd, env, stdio: ['ignore', openSync(log, 'w'), 'pipe'] });
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

function relative(file) {
  return file.startsWith(ROOT) ? file.slice(ROOT.length) : file;
}
