import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from './fixtures.js';

/**
 * The layers of src/, top to bottom. A folder may import only from the folders listed for it:
 * arrows point down, never up and never sideways, so each layer can be read and changed
 * without the ones above it. Each folder's README.md says the same in its first paragraph.
 */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  cli: ['server', 'audit', 'cluster', 'admission', 'report', 'telemetry', 'engine'],
  server: ['admission', 'report', 'telemetry', 'engine'],
  audit: ['cluster', 'admission', 'report', 'telemetry', 'engine'],
  cluster: ['telemetry', 'engine'],
  admission: ['report', 'telemetry', 'engine'],
  report: ['engine'],
  telemetry: ['engine'],
  engine: [],
};

const SRC = fileURLToPath(repositoryFile('src'));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of a file, static and dynamic, type-only included, resolved to .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)].map((match) => match[1] ?? '');
  return specifiers.map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, '.ts'));
}

const layerOf = (file: string): string => relative(SRC, file).split('/')[0] ?? '';

describe('the architecture of src/', () => {
  const files = sourceFiles(SRC);

  it('has a layer for every folder, and a folder for every layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    expect(folders.sort()).toEqual(Object.keys(LAYERS).sort());
  });

  it('imports only downwards', () => {
    const upward = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => layerOf(target) !== layerOf(file) && !LAYERS[layerOf(file)]?.includes(layerOf(target)))
        .map((target) => `${relative(SRC, file)} imports ${relative(SRC, target)}`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle between files, type-only imports included', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((step) => relative(SRC, step)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it.each(Object.entries(LAYERS))('src/%s/README.md opens by saying what it may import', (folder, allowed) => {
    const opening = readFileSync(join(SRC, folder, 'README.md'), 'utf8').split('\n\n')[0] ?? '';
    const claim = /May import: ([^.]+)\./.exec(opening)?.[1] ?? '';
    const named = claim.startsWith('nothing') ? [] : claim.split(',').map((name) => name.trim());
    expect(named).toEqual(allowed);
  });
});
