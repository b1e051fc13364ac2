// The engine's own speed, without the network: verdicts per second in process against the
// JSON.parse every request pays first, and the `validate` command on 10,000 documents against
// js-yaml reading the same file. Each figure is set beside a baseline measured in the same run,
// in alternating rounds, because the machines are shared and noisy: the ratios travel between
// machines, the raw figures do not. Needs the build: `npm run build && node bench/engine.mjs`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump } from 'js-yaml';
import { positiveNumber, readOptions, requireBuild } from './command.mjs';
import { fileStamp, median } from './stats.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const CLI = join(ROOT, 'bin', 'mcpserver-webhook.js');

/** The target for one core. */
const TARGET_VERDICTS_PER_SECOND = 100_000;
/** How many documents the `validate` command is timed on, as the issue asks. */
const DOCUMENTS = 10_000;
/** Long enough for V8 to optimise both loops before they are timed. */
const WARMUP_SECONDS = 0.5;

// payloads.mjs imports the build, so a missing dist/ must be caught before it is loaded.
requireBuild('bench/engine.mjs');
const { validate } = await import('../dist/engine/index.js');
const { buildPayloads, describeMix } = await import('./payloads.mjs');

const settings = readSettings();
const payloads = buildPayloads();
const mix = describeMix(payloads);
const reviews = payloads.map((payload) => ({ body: payload.body, expected: payload.expected, object: JSON.parse(payload.body).request.object }));

const inProcess = measureInProcess(reviews, settings);
// Read now: the CLI part below builds a large YAML text in this process, which would count.
const peakRssKiB = process.resourceUsage().maxRSS;
const cli = await measureCli(reviews, settings);

const report = { date: new Date().toISOString(), node: process.version, settings, mix, inProcess: { ...inProcess, peakRssKiB }, cli };
printReport(report);
writeResults(report);

function readSettings() {
  const script = 'bench/engine.mjs';
  const values = readOptions(script, { seconds: { type: 'string', default: '2' }, rounds: { type: 'string', default: '3' } }, `${script} [--seconds N] [--rounds N]`);
  return { seconds: positiveNumber(script, '--seconds', values.seconds, { fractions: true }), rounds: positiveNumber(script, '--rounds', values.rounds) };
}

/**
 * Calls `work` on the items in order, over and over, for about `seconds`; answers the calls per
 * second. The clock is read once per pass over the items, so that reading it costs nothing
 * beside the work.
 */
function callsPerSecond(items, work, seconds) {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let calls = 0;
  let elapsed = 0n;
  do {
    for (const item of items) work(item);
    calls += items.length;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return (calls * 1e9) / Number(elapsed);
}

function measureInProcess(reviews, { seconds, rounds }) {
  const judge = (review) => validate(review.object, { context: 'admission' });
  const parse = (review) => JSON.parse(review.body);
  const byOutcome = Object.fromEntries(['allowed', 'denied', 'warned'].map((outcome) => [outcome, reviews.filter((review) => review.expected === outcome)]));

  callsPerSecond(reviews, judge, WARMUP_SECONDS);
  callsPerSecond(reviews, parse, WARMUP_SECONDS);
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const verdicts = callsPerSecond(reviews, judge, seconds);
    const parses = callsPerSecond(reviews, parse, seconds);
    const outcomes = Object.fromEntries(Object.entries(byOutcome).map(([outcome, items]) => [outcome, callsPerSecond(items, judge, seconds)]));
    perRound.push({ verdicts, parses, outcomes });
  }
  const outcomes = Object.keys(byOutcome);
  // Ratios are the medians of the rounds' own ratios, not ratios of medians: a verdict and its
  // baseline ran moments apart, so a slow spell of the machine slows both and cancels out.
  const verdictRateVsParse = median(perRound.map((round) => round.verdicts / round.parses));
  return {
    perRound,
    verdictsPerSecond: median(perRound.map((round) => round.verdicts)),
    parsesPerSecond: median(perRound.map((round) => round.parses)),
    verdictRateVsParse,
    verdictCostInParses: 1 / verdictRateVsParse,
    outcomesPerSecond: Object.fromEntries(outcomes.map((outcome) => [outcome, median(perRound.map((round) => round.outcomes[outcome]))])),
    outcomeRatesVsParse: Object.fromEntries(outcomes.map((outcome) => [outcome, median(perRound.map((round) => round.outcomes[outcome] / round.parses))])),
  };
}

async function measureCli(reviews, { rounds }) {
  const folder = mkdtempSync(join(tmpdir(), 'mcpserver-bench-'));
  try {
    const file = join(folder, 'mcpservers.yaml');
    // As they stand in Git: without what the API server adds (uid, managedFields, ...).
    const manifest = ({ apiVersion, kind, metadata, spec }) => ({ apiVersion, kind, metadata: { name: metadata.name, namespace: metadata.namespace }, spec });
    const documents = Array.from({ length: DOCUMENTS }, (_, n) => dump(manifest(reviews[n % reviews.length].object)));
    const yaml = documents.join('---\n');
    writeFileSync(file, yaml);

    const perRound = [];
    for (let round = 0; round < rounds; round++) {
      const validateSeconds = await timeValidate(file);
      const parseSeconds = await timeYamlParse(file);
      perRound.push({ validateSeconds, parseSeconds });
    }
    const validateSeconds = median(perRound.map((round) => round.validateSeconds));
    const parseSeconds = median(perRound.map((round) => round.parseSeconds));
    return {
      documents: DOCUMENTS,
      yamlBytes: Buffer.byteLength(yaml),
      perRound,
      validateSeconds,
      parseSeconds,
      validateDocumentsPerSecond: DOCUMENTS / validateSeconds,
      parseDocumentsPerSecond: DOCUMENTS / parseSeconds,
      // As in process, the median of the rounds' own ratios.
      validateCostInParses: median(perRound.map((round) => round.validateSeconds / round.parseSeconds)),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Runs a child process to its end; answers its wall time in seconds, exit code and output. */
function timeChild(args) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    child.stdout.on('data', (chunk) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      resolve({ seconds, code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
  });
}

/** The real command, start to end; it exits 1 because the mix holds denied objects. */
async function timeValidate(file) {
  const run = await timeChild([CLI, 'validate', file, '--output', 'json']);
  const checked = run.code === 1 ? JSON.parse(run.stdout).summary.checked : undefined;
  if (checked !== DOCUMENTS) {
    throw new Error(`validate exited ${run.code} having checked ${checked} MCPServers, not ${DOCUMENTS}: ${run.stderr.trim()}`);
  }
  return run.seconds;
}

/** The floor under the command: starting Node, reading the file and parsing its YAML, nothing more. */
async function timeYamlParse(file) {
  const script = "import { readFileSync } from 'node:fs'; import { loadAll } from 'js-yaml'; console.log(loadAll(readFileSync(process.argv[1], 'utf8')).length);";
  const run = await timeChild(['--input-type=module', '-e', script, file]);
  if (run.code !== 0 || Number(run.stdout) !== DOCUMENTS) {
    throw new Error(`the YAML baseline exited ${run.code} having read ${run.stdout.trim()} documents, not ${DOCUMENTS}: ${run.stderr.trim()}`);
  }
  return run.seconds;
}

function printReport({ settings, mix, inProcess, cli }) {
  const count = (value) => Math.round(value).toLocaleString('en-US');
  const ratio = (value) => `${value.toFixed(2)}x`;
  const row = (label, ...cells) => console.log(`  ${label.padEnd(40)}${cells.map((cell) => cell.padStart(13)).join('')}`);
  const { verdictsPerSecond: verdicts, parsesPerSecond: parses } = inProcess;

  console.log(`Mix: ${mix.reviews} reviews (${mix.allowed} allowed, ${mix.denied} denied, ${mix.warned} warned; ${mix.updates} UPDATEs), ${mix.minBytes}-${mix.maxBytes} bytes.`);
  console.log(`Figures: median of ${settings.rounds} round${settings.rounds === 1 ? '' : 's'}, each alternating work and baseline.`);
  console.log(`\nIn process, one core (${settings.seconds} s per figure per round)`);
  row('', 'per second', 'rate/base');
  row('JSON.parse of the review (baseline)', count(parses), ratio(1));
  row('verdicts, whole mix', count(verdicts), ratio(inProcess.verdictRateVsParse));
  for (const [outcome, perSecond] of Object.entries(inProcess.outcomesPerSecond)) {
    row(`  verdicts, ${outcome} only`, count(perSecond), ratio(inProcess.outcomeRatesVsParse[outcome]));
  }
  console.log(`  A verdict costs ${inProcess.verdictCostInParses.toFixed(2)} parses.`);
  const met = verdicts >= TARGET_VERDICTS_PER_SECOND ? 'met' : 'NOT met';
  console.log(`  Target of ${count(TARGET_VERDICTS_PER_SECOND)} verdicts/s on one core: ${met}.`);
  console.log(`  Peak RSS: ${(inProcess.peakRssKiB / 1024).toFixed(1)} MiB.`);

  console.log(`\nvalidate command, ${count(cli.documents)} documents (${(cli.yamlBytes / 2 ** 20).toFixed(1)} MiB of YAML), as child processes`);
  row('', 'wall s', 'docs/s', 'time/base');
  row('node + js-yaml loadAll (baseline)', cli.parseSeconds.toFixed(2), count(cli.parseDocumentsPerSecond), ratio(1));
  row('mcpserver-webhook validate -o json', cli.validateSeconds.toFixed(2), count(cli.validateDocumentsPerSecond), ratio(cli.validateCostInParses));
  console.log(`  validate takes ${cli.validateCostInParses.toFixed(2)} times as long as reading the YAML.`);
}

function writeResults(report) {
  mkdirSync(RESULTS, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(RESULTS, `engine-${fileStamp(new Date(report.date))}.json`);
  writeFileSync(file, text);
  writeFileSync(join(RESULTS, 'engine-latest.json'), text);
  console.log(`\nRaw figures: ${file.slice(ROOT.length)}`);
}
