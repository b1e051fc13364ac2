// What the benchmarks start as child processes: the webhook with its container image's node
// flags, and the load generator (bench/load.mjs) in a process of its own.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LOAD = fileURLToPath(new URL('./load.mjs', import.meta.url));

/**
 * The options the container image gives node before the script: its Dockerfile's last
 * ENTRYPOINT, between the two. `root` is a checkout of the project.
 * @param {string} root
 * @returns {string[]}
 */
export function imageNodeFlags(root) {
  const dockerfile = join(root, 'Dockerfile');
  if (!existsSync(dockerfile)) return [];
  const entrypoint = readFileSync(dockerfile, 'utf8').split('\n').filter((line) => line.startsWith('ENTRYPOINT ')).at(-1);
  return entrypoint ? JSON.parse(entrypoint.slice('ENTRYPOINT '.length)).slice(1, -1) : [];
}

/**
 * Starts the load generator with `config` (see bench/load.mjs); `result` is its JSON line.
 * `stop()` ends a paced load early: it answers SIGTERM by writing what it measured so far.
 * @param {Record<string, unknown>} config
 * @returns {{ result: Promise<any>, stop(): void }}
 */
export function startLoad(config) {
  const child = spawn(process.execPath, [LOAD, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const result = new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '')) : reject(new Error(`the load generator failed (exit ${code})`))));
  });
  return { result, stop: () => child.kill('SIGTERM') };
}

/**
 * The latencies the load generator wrote (milliseconds, float64).
 * @param {string} file
 * @returns {Float64Array}
 */
export function readLatencies(file) {
  const buffer = readFileSync(file);
  const latencies = new Float64Array(buffer.byteLength / 8);
  new Uint8Array(latencies.buffer).set(buffer); // a copy: the Buffer's own offset need not be a multiple of 8
  return latencies;
}

/**
 * A size from /proc/PID/status (Linux): `VmRSS`, the resident set size now, or `VmHWM`, its
 * peak; NaN elsewhere, printed as n/a.
 * @param {number | undefined} pid
 * @param {'VmRSS' | 'VmHWM'} field
 */
export function residentBytes(pid, field = 'VmRSS') {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readProc(pid, 'status'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/**
 * User plus system CPU time a process has used, from /proc (Linux); NaN elsewhere.
 * @param {number | undefined} pid
 */
export function cpuSeconds(pid) {
  const fields = readProc(pid, 'stat').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of stat; after the command name they are 12 and 13 (from 1).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * A file of /proc/PID, '' when there is none.
 * @param {number | undefined} pid
 * @param {string} file
 */
function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}
