// `npm run bench:scale`: `serve --audit` against a real kube-apiserver holding 1,000 to 10,000
// MCPServers, a share of them in one namespace, as Muster's `family` use makes them (one per
// workload cluster). It measures the first pass: time to synced, time until every MCPServer is
// in a PolicyReport, peak RSS, event-loop lag, admission latency during the pass against idle,
// the webhook's API requests by verb, and the reports' size; then prints the targets met or missed.
//
//   npm run bench:scale [-- --sizes 1000,5000,10000 --share 0.2 --timeout 180]
//   npm run bench:scale -- --sizes 5000 --baseline ../other-checkout   this build against others (repeatable)
//
// It reuses the end-to-end harness (test/e2e/): a fresh etcd and kube-apiserver for every size
// and build, found as `npm run test:e2e` finds them (KUBEBUILDER_ASSETS or TEST_ASSET_*); without
// them it says so in one line and exits 0. docs/performance.md tells the method and the figures.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assetsOrExit } from '../test/e2e/assets.mjs';
import { grantChartAuditRbac, metrics, sumOf } from '../test/e2e/audit-setup.js';
import { adminClients, createNamespace, installCrd, MCPSERVER_CRD, POLICY_REPORT_CRD, serviceAccount, writeKubeconfig } from '../test/e2e/cluster.js';
import { startControlPlane } from '../test/e2e/control-plane.js';
import { temporaryFolder } from '../test/e2e/processes.js';
import { createAll, ReportWatch, scaleFleet } from '../test/e2e/scale-setup.js';
import { startWebhook } from '../test/e2e/webhook.js';
import { cpuSeconds, imageNodeFlags, readLatencies, residentBytes, startLoad } from './children.mjs';
import { positiveNumber, readOptions, requireBuild, usageError } from './command.mjs';
import { fileStamp, formatInteger, formatMiB, formatMs, latencySummary, table } from './stats.mjs';

const SCRIPT = 'bench/scale.ts';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const RELEASE_NAMESPACE = 'mcpserver-webhook';
const SERVICE_ACCOUNT = 'mcpserver-webhook';
const WEBHOOK_USER = `system:serviceaccount:${RELEASE_NAMESPACE}:${SERVICE_ACCOUNT}`;
/** An AdmissionReview every this many ms, on one kept-alive connection, as the API server calls a webhook. */
const PACE_MS = 20;
/** The idle measurement lasts as long as the pass did, up to this. */
const MAX_IDLE_SECONDS = 60;
/** How often the webhook's /metrics and /proc are read during the pass. */
const SAMPLE_MS = 500;
const MIB = 1024 * 1024;

/** The issue's targets (docs/performance.md). */
const TARGETS = { maxPeakRssBytes: 150 * MIB, maxAdmissionP99AddedMs: 5, maxReportedSeconds: 30, maxReportBytes: MIB };

const options = readOptions(
  SCRIPT,
  {
    sizes: { type: 'string', default: '1000,5000,10000' },
    share: { type: 'string', default: '0.2' },
    timeout: { type: 'string', default: '180' },
    baseline: { type: 'string', multiple: true, default: [] },
  },
  `${SCRIPT} [--sizes N,N,...] [--share 0..1] [--timeout SECONDS] [--baseline DIR ...]`,
);
const sizes = String(options.sizes)
  .split(',')
  .map((size) => positiveNumber(SCRIPT, '--sizes', size));
const share = Number(options.share);
if (!(share >= 0 && share <= 1)) usageError(SCRIPT, `--share takes a number from 0 to 1, not ${JSON.stringify(options.share)}`);
const timeoutSeconds = positiveNumber(SCRIPT, '--timeout', String(options.timeout));
const builds = [
  { name: 'this checkout', root: ROOT },
  ...(options.baseline as string[]).map((dir) => {
    const root = resolvePath(dir);
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) usageError(SCRIPT, `--baseline ${dir} holds no built checkout (dist/cli/main.js): run npm ci there`);
    return { name: basename(root), root };
  }),
];

Object.assign(process.env, assetsOrExit('bench:scale'));
requireBuild(SCRIPT);
const { buildPayloads } = await import('./payloads.mjs');

/** What one build did with one size. */
interface Figures {
  readonly build: string;
  readonly size: number;
  readonly inCrowded: number;
  readonly createSeconds: number;
  /** From the webhook's start; undefined when it never got there. */
  readonly syncedSeconds: number | undefined;
  readonly reportedSeconds: number | undefined;
  readonly passSeconds: number;
  /** MCPServers in no report at the end of the pass. */
  readonly unreported: number;
  readonly peakRssBytes: number;
  readonly endRssBytes: number;
  readonly cpuSeconds: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly admission: { readonly pass: Latency; readonly idle: Latency };
  /** `verb resource` to count, of the webhook's own requests during the pass (the API server's audit log). */
  readonly requests: Record<string, number>;
  /** `verb resource code` to count, of those the API server answered with 400 or more. */
  readonly refusedRequests: Record<string, number>;
  /** `verb resource` to count, of those received and not answered at the end of the pass. */
  readonly unansweredRequests: Record<string, number>;
  /** The webhook's `audit-leader` lines: 1 when it took the Lease and kept it. */
  readonly leaderChanges: number;
  readonly reports: number;
  readonly largestReportBytes: number;
  readonly writeErrors: Record<string, number>;
  /** The webhook's log lines at warn and error (but the drift the bench's reviews cause), each message once with its count. */
  readonly warnings: Record<string, number>;
}

interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly errors: number;
}

const payloads = buildPayloads();
const runs: Figures[] = [];
for (const size of sizes) {
  for (const build of builds) {
    process.stderr.write(`${size} MCPServers, ${build.name}\n`);
    runs.push(await scenario(size, build));
  }
  printSize(runs.filter((run) => run.size === size));
}
mkdirSync(RESULTS, { recursive: true });
const file = join(RESULTS, `scale-${fileStamp()}.json`);
const machine = { cpus: cpus().length, model: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version };
writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine, options: { sizes, share, timeoutSeconds, paceMs: PACE_MS, builds: builds.map(({ name }) => name) }, runs }, null, 2)}\n`);
console.log(`\nraw results: ${file.slice(ROOT.length)}`);

/**
 * One size for one build: a fresh control plane with the MCPServers already stored, then
 * `serve --audit` as the chart runs it, watched until every MCPServer is in a report or the
 * time is up.
 */
async function scenario(size: number, build: { name: string; root: string }): Promise<Figures> {
  const folder = temporaryFolder('bench-scale');
  const auditPolicy = join(folder.path, 'audit-policy.yaml');
  const auditLog = join(folder.path, 'audit.log');
  // The API server's audit log holds the webhook's requests and nothing else: the bench's own are not counted.
  writeFileSync(
    auditPolicy,
    JSON.stringify({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata', users: [WEBHOOK_USER] }, { level: 'None' }] }),
  );
  const plane = await startControlPlane({ apiServerFlags: [`--audit-policy-file=${auditPolicy}`, `--audit-log-path=${auditLog}`] });
  const stops: (() => Promise<unknown>)[] = [() => plane.stop()];
  try {
    const clients = adminClients(plane);
    await installCrd(plane, MCPSERVER_CRD);
    await installCrd(plane, POLICY_REPORT_CRD);
    await createNamespace(clients, RELEASE_NAMESPACE);
    const planned = scaleFleet(size, { share });
    const creating = performance.now();
    const uids = await createAll(plane, clients, planned);
    const createSeconds = (performance.now() - creating) / 1000;
    process.stderr.write(`  created in ${createSeconds.toFixed(1)} s\n`);
    await grantChartAuditRbac(plane, RELEASE_NAMESPACE, SERVICE_ACCOUNT);
    const kubeconfig = writeKubeconfig(plane, await serviceAccount(clients, RELEASE_NAMESPACE, SERVICE_ACCOUNT));
    const watch = new ReportWatch(plane);
    stops.unshift(() => watch.stop());

    const started = performance.now();
    const elapsed = (): number => (performance.now() - started) / 1000;
    const webhook = await startWebhook(join(folder.path, 'certs'), {
      args: ['--audit', '--kubeconfig', kubeconfig, '--audit-namespace', RELEASE_NAMESPACE, '--metrics-port', '0'],
      env: { POD_NAME: 'bench' },
      build: { root: build.root, nodeArgs: imageNodeFlags(build.root) },
    });
    stops.unshift(() => webhook.stop());
    const pid = webhook.process.pid;
    const payloadsFile = join(folder.path, 'payloads.json');
    writeFileSync(payloadsFile, JSON.stringify(payloads));
    const admission = (seconds: number, name: string) =>
      startLoad({ url: `https://127.0.0.1:${webhook.port}/validate`, connections: 1, paceMs: PACE_MS, seconds, payloadsFile, latenciesFile: join(folder.path, `${name}.bin`) });
    const passLoad = admission(timeoutSeconds, 'pass');

    let syncedSeconds: number | undefined;
    let reportedSeconds: number | undefined;
    let lagP99 = 0;
    let lagMax = 0;
    while (reportedSeconds === undefined && elapsed() < timeoutSeconds) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      const series = await metrics(webhook.metricsPort).catch(() => new Map<string, number>());
      // prom-client resets its event-loop histogram at every scrape: each figure is of the last SAMPLE_MS.
      lagP99 = Math.max(lagP99, series.get('nodejs_eventloop_lag_p99_seconds') ?? 0);
      lagMax = Math.max(lagMax, series.get('nodejs_eventloop_lag_max_seconds') ?? 0);
      if (syncedSeconds === undefined && sumOf(series, 'mcpserver_webhook_audit_cycles_total', { trigger: 'list' }) > 0) {
        syncedSeconds = elapsed();
        process.stderr.write(`  synced at ${syncedSeconds.toFixed(1)} s\n`);
      }
      if (watch.missing(uids) === 0) reportedSeconds = elapsed();
    }
    const passSeconds = elapsed();
    passLoad.stop();
    const passResult = await passLoad.result;
    const peakRssBytes = residentBytes(pid, 'VmHWM');
    const cpu = cpuSeconds(pid);
    const { requests, refusedRequests, unansweredRequests } = countRequests(auditLog);
    const unreported = watch.missing(uids);
    process.stderr.write(`  ${reportedSeconds === undefined ? `${unreported} MCPServers in no report after ${timeoutSeconds} s` : `all reported at ${reportedSeconds.toFixed(1)} s`}; idle admission for ${Math.min(passSeconds, MAX_IDLE_SECONDS).toFixed(0)} s\n`);

    const idleLoad = admission(Math.min(passSeconds, MAX_IDLE_SECONDS), 'idle');
    const idleResult = await idleLoad.result;
    const series = await metrics(webhook.metricsPort);
    const reports = watch.all();
    const writeErrors: Record<string, number> = {};
    for (const [key, value] of series) if (key.startsWith('mcpserver_webhook_audit_write_errors_total{') && value > 0) writeErrors[key.slice(key.indexOf('{'))] = value;
    const warnings: Record<string, number> = {};
    // The bench's reviews include objects the webhook's schema refuses, which it notes as drift: not the audit's.
    const audits = webhook.logs().filter((line) => (line.level === 'warn' || line.level === 'error') && line.event !== 'schema-drift');
    for (const line of audits) warnings[String(line.msg)] = (warnings[String(line.msg)] ?? 0) + 1;
    // The first of each, in full: a count alone does not say what went wrong.
    const firstOf = new Map(audits.map((line) => [String(line.msg), line] as const).reverse());
    for (const line of firstOf.values()) console.log(`  first "${String(line.msg)}": ${JSON.stringify(line.error ?? line)}`);
    return {
      build: build.name,
      size,
      inCrowded: planned.filter(({ namespace }) => namespace === 'muster').length,
      createSeconds,
      syncedSeconds,
      reportedSeconds,
      passSeconds,
      unreported,
      peakRssBytes,
      endRssBytes: residentBytes(pid),
      cpuSeconds: cpu,
      lagP99Ms: lagP99 * 1000,
      lagMaxMs: lagMax * 1000,
      admission: { pass: latency(passResult, join(folder.path, 'pass.bin')), idle: latency(idleResult, join(folder.path, 'idle.bin')) },
      requests,
      refusedRequests,
      unansweredRequests,
      leaderChanges: webhook.logs().filter((line) => line.event === 'audit-leader').length,
      reports: reports.length,
      largestReportBytes: Math.max(0, ...reports.map((report) => report.bytes)),
      writeErrors,
      warnings,
    };
  } finally {
    for (const stop of stops) await stop();
    folder.remove();
  }
}

function latency(result: { errors: number; non2xx: number }, latenciesFile: string): Latency {
  const latencies = readLatencies(latenciesFile);
  const { p50, p99, max } = latencySummary(latencies);
  return { count: latencies.length, p50, p99, max, errors: result.errors + result.non2xx };
}

/**
 * The webhook's requests in the API server's audit log so far, by verb and resource: a watch
 * counts once, when it starts (ResponseStarted); every other request when it is answered
 * (ResponseComplete), and as unanswered when it was received and not answered yet.
 */
function countRequests(auditLog: string): Pick<Figures, 'requests' | 'refusedRequests' | 'unansweredRequests'> {
  const tally = (record: Record<string, number>, key: string): void => {
    record[key] = (record[key] ?? 0) + 1;
  };
  const requests: Record<string, number> = {};
  const refusedRequests: Record<string, number> = {};
  const received = new Map<string, string>();
  const text = existsSync(auditLog) ? readFileSync(auditLog, 'utf8') : '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as { auditID: string; stage: string; verb: string; objectRef?: { resource?: string }; responseStatus?: { code?: number } };
    const key = `${event.verb} ${event.objectRef?.resource ?? '(none)'}`;
    if (event.stage === 'RequestReceived') received.set(event.auditID, key);
    else received.delete(event.auditID);
    if (event.verb === 'watch' ? event.stage !== 'ResponseStarted' : event.stage !== 'ResponseComplete') continue;
    tally(requests, key);
    const code = event.responseStatus?.code ?? 0;
    if (code >= 400) tally(refusedRequests, `${key} ${code}`);
  }
  const unansweredRequests: Record<string, number> = {};
  for (const key of received.values()) tally(unansweredRequests, key);
  return { requests, refusedRequests, unansweredRequests };
}

function seconds(value: number | undefined, never: string): string {
  return value === undefined ? never : `${value.toFixed(1)} s`;
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return entries.map(([key, count]) => `${key}: ${formatInteger(count)}`).join(', ') || 'none';
}

/** A table of one size, a column per build, then the targets met or missed. */
function printSize(figures: readonly Figures[]): void {
  const first = figures[0] as Figures;
  console.log(`\n${formatInteger(first.size)} MCPServers, ${formatInteger(first.inCrowded)} in one namespace (created in ${first.createSeconds.toFixed(1)} s); give-up after ${timeoutSeconds} s`);
  const row = (what: string, value: (run: Figures) => string): string[] => [what, ...figures.map(value)];
  console.log(
    table([
      ['', ...figures.map((run) => run.build)],
      row('time to synced', (run) => seconds(run.syncedSeconds, 'never')),
      row('time to every MCPServer in a report', (run) => seconds(run.reportedSeconds, `never (${formatInteger(run.unreported)} left)`)),
      row('peak RSS (VmHWM)', (run) => formatMiB(run.peakRssBytes)),
      row('RSS at the end', (run) => formatMiB(run.endRssBytes)),
      row('CPU of the webhook to the end of the pass', (run) => `${run.cpuSeconds.toFixed(1)} s`),
      row('event-loop lag p99 (worst 0.5 s)', (run) => `${formatMs(run.lagP99Ms)} ms`),
      row('event-loop lag max', (run) => `${formatMs(run.lagMaxMs)} ms`),
      row('admission p50 idle / pass', (run) => `${formatMs(run.admission.idle.p50)} / ${formatMs(run.admission.pass.p50)} ms`),
      row('admission p99 idle / pass', (run) => `${formatMs(run.admission.idle.p99)} / ${formatMs(run.admission.pass.p99)} ms`),
      row('admission max idle / pass', (run) => `${formatMs(run.admission.idle.max)} / ${formatMs(run.admission.pass.max)} ms`),
      row('admission errors idle / pass', (run) => `${run.admission.idle.errors} / ${run.admission.pass.errors}`),
      row('PolicyReports', (run) => formatInteger(run.reports)),
      row('largest report', (run) => `${formatInteger(run.largestReportBytes)} B`),
    ]),
  );
  for (const run of figures) {
    console.log(`\n${run.build}:`);
    console.log(`  API requests in the pass: ${counts(run.requests)}`);
    console.log(`  refused by the API server: ${counts(run.refusedRequests)}`);
    console.log(`  received, not answered at the end of the pass: ${counts(run.unansweredRequests)}`);
    console.log(`  Lease taken or lost (audit-leader lines): ${run.leaderChanges}`);
    console.log(`  audit write errors (metric): ${counts(run.writeErrors)}`);
    console.log(`  log lines at warn or error: ${counts(run.warnings)}`);
    // Too large for the API server (413, over 3 MiB) or for etcd (500, over 1.5 MiB): never stored, so never seen.
    const tooLarge = Object.keys(run.refusedRequests).some((key) => /^(create|update|patch) policyreports (413|500)$/.test(key));
    const checks: [string, boolean | undefined, string][] = [
      [`peak RSS <= ${formatMiB(TARGETS.maxPeakRssBytes)}`, run.peakRssBytes <= TARGETS.maxPeakRssBytes, formatMiB(run.peakRssBytes)],
      [
        `admission p99 during the pass within ${TARGETS.maxAdmissionP99AddedMs} ms of idle`,
        run.admission.pass.p99 - run.admission.idle.p99 <= TARGETS.maxAdmissionP99AddedMs,
        `+${formatMs(run.admission.pass.p99 - run.admission.idle.p99)} ms`,
      ],
      [`every MCPServer in a report within ${TARGETS.maxReportedSeconds} s`, (run.reportedSeconds ?? Infinity) <= TARGETS.maxReportedSeconds, seconds(run.reportedSeconds, 'never')],
      [`no report over ${formatMiB(TARGETS.maxReportBytes)}`, run.reports === 0 && !tooLarge ? undefined : run.largestReportBytes <= TARGETS.maxReportBytes && !tooLarge, `largest stored ${formatInteger(run.largestReportBytes)} B${tooLarge ? '; writes refused (413 or 500: too large)' : ''}`],
    ];
    // n/a: nothing was written to judge by.
    for (const [what, met, figure] of checks) console.log(`  ${met === undefined ? 'n/a   ' : met ? 'met   ' : 'MISSED'}  ${what}: ${figure}`);
  }
}
