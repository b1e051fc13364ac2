/**
 * The container image, checked by reading the Dockerfile: there is no Docker engine on the
 * machines this suite runs on, so the image is never built here.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadValues, readText, type Tree } from './chart-files.js';

interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: string[];
}

/** The Dockerfile's stages, each with its instructions (continuation lines joined, comments out). */
function stages(dockerfile: string): Stage[] {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const result: { base: string; name: string | undefined; instructions: string[] }[] = [];
  for (const instruction of instructions) {
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(instruction);
    if (from) result.push({ base: from[1]!, name: from[2], instructions: [] });
    else result.at(-1)?.instructions.push(instruction);
  }
  return result;
}

const dockerfile = readText('Dockerfile');
const all = stages(dockerfile);
const runtime = all.at(-1)!;
const lines = (stage: Stage, keyword: string): string[] => stage.instructions.filter((line) => line.toUpperCase().startsWith(`${keyword} `));
const nodeMajor = /^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1];

describe('Dockerfile', () => {
  it('builds in stages on Node.js 22 and runs on a Node.js 22 image', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(nodeMajor).toBe('22');
    for (const stage of all) expect(stage.base.replace('${NODE_VERSION}', nodeMajor!)).toMatch(/node(js)?:?22/);
    expect(all.slice(0, -1).every((stage) => stage.name !== undefined)).toBe(true);
  });

  it('installs production dependencies without dev tools or install scripts (prepare runs tsc)', () => {
    const installs = all.flatMap((stage) => lines(stage, 'RUN')).filter((line) => line.includes('npm ci'));
    expect(installs.some((line) => line.includes('--omit=dev') && line.includes('--ignore-scripts'))).toBe(true);
    expect(installs.filter((line) => line.includes('--omit=dev')).every((line) => line.includes('--ignore-scripts'))).toBe(true);
    expect(lines(runtime, 'RUN')).toEqual([]);
  });

  it('copies what the program reads at run time, and no certificate', () => {
    const copies = lines(runtime, 'COPY').join('\n');
    for (const path of ['dist', 'bin', 'schemas', 'node_modules', 'package.json']) expect(copies, path).toContain(path);
    for (const stage of all) {
      for (const copy of lines(stage, 'COPY')) {
        expect(copy).not.toMatch(/\bcerts\b|\.key\b|\.pem\b|\.crt\b/);
        expect(copy).not.toMatch(/^COPY\s+\.\s/);
      }
    }
  });

  it('runs serve as the numeric non-root user the chart runs as', () => {
    const user = lines(runtime, 'USER').at(-1);
    const uid = /^USER\s+(\d+)(?::\d+)?$/.exec(user ?? '')?.[1];
    expect(uid).toBeDefined();
    expect(Number(uid)).toBeGreaterThan(0);
    expect((loadValues().podSecurityContext as Tree).runAsUser).toBe(Number(uid));
    const entrypoint = JSON.parse(lines(runtime, 'ENTRYPOINT').at(-1)!.slice('ENTRYPOINT'.length)) as string[];
    const command = JSON.parse(lines(runtime, 'CMD').at(-1)!.slice('CMD'.length)) as string[];
    expect(entrypoint.at(-1)).toBe('bin/mcpserver-webhook.js');
    expect(entrypoint[0]).toMatch(/(^|\/)node$/);
    expect(command).toEqual(['serve']);
    // The chart's preStop hook runs the same node binary.
    expect((loadValues().server as Tree).nodeBinary).toBe(entrypoint[0]);
  });

  it("starts node with flags node accepts: a V8 flag it no longer knows would stop the pod at start ('bad option')", () => {
    const entrypoint = JSON.parse(lines(runtime, 'ENTRYPOINT').at(-1)!.slice('ENTRYPOINT'.length)) as string[];
    const flags = entrypoint.slice(1, -1);
    expect(flags).toContain('--heap-growing-percent=50');
    const run = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('sets production mode, the certificate folder, the port and OCI labels', () => {
    const environment = lines(runtime, 'ENV').join(' ');
    expect(environment).toMatch(/\bNODE_ENV=production\b/);
    expect(environment).toMatch(/\bCERT_DIR=\/certs\b/);
    expect(lines(runtime, 'EXPOSE')).toEqual([`EXPOSE ${(loadValues().server as Tree).port}`]);
    const labels = lines(runtime, 'LABEL').join(' ');
    for (const label of ['title', 'description', 'licenses', 'source', 'version']) expect(labels).toContain(`org.opencontainers.image.${label}=`);
  });
});

describe('.dockerignore', () => {
  const patterns = readText('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('keeps dependencies, builds, tests, history and private keys out of the build context', () => {
    expect(patterns).toEqual(expect.arrayContaining(['node_modules', 'dist', 'test', '.git', 'bench/results', 'certs/*.key', 'certs/*.crt', '**/*.key']));
    // Nothing the Dockerfile copies from the context is ignored.
    for (const path of ['src', 'bin', 'schemas', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) expect(patterns).not.toContain(path);
  });
});
