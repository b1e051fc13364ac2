// Where a CPU profile's time goes: self time by function and by area (the project's own code,
// each package, Node's internals, garbage collection), the figures `--cpu-prof` hides in a tree.
import { table } from './stats.mjs';

/**
 * A text report of a `.cpuprofile` (Chrome DevTools' format) of a server that answered `requests`
 * requests while it was recorded; `root` is stripped from file names.
 */
export function summarizeProfile(profile, root, requests) {
  const selfMicros = new Map();
  const intervals = profile.timeDeltas;
  profile.samples.forEach((id, index) => selfMicros.set(id, (selfMicros.get(id) ?? 0) + Math.max(0, intervals[index] ?? 0)));
  const total = [...selfMicros.values()].reduce((sum, value) => sum + value, 0);

  const byFunction = new Map();
  const byArea = new Map();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    if (micros === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(root, '');
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byArea.set(area(file, functionName), (byArea.get(area(file, functionName)) ?? 0) + micros);
  }
  const rows = (map, limit) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => [name, `${((micros / total) * 100).toFixed(1)}%`, `${(micros / 1000).toFixed(0)} ms`, (micros / requests).toFixed(1)]);
  return [
    `CPU profile: ${(total / 1e6).toFixed(1)} s sampled over ${requests} requests, ${((total - (byArea.get('(idle)') ?? 0)) / requests).toFixed(1)} µs busy per request`,
    '',
    table([['area', 'self', 'time', 'µs/request'], ...rows(byArea, 20)]),
    '',
    table([['function', 'self', 'time', 'µs/request'], ...rows(byFunction, 30)]),
  ].join('\n');
}

function area(file, functionName) {
  if (!file) return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (inPackage) return inPackage[1];
  if (file.startsWith('node:')) return `node:${file.slice(5).split('/')[0]}`;
  if (file.includes('/dist/')) return `dist/${file.split('/dist/')[1].split('/')[0]}`;
  return file;
}
