/**
 * README is the front door and docs/ the reference: the tests below hold both to the code and to
 * each other. Links and anchors resolve; shell blocks run one after another from the repository
 * root, and those marked `<!-- docs-test: run[, exit N][, output] -->` run for real in a copy of
 * the repository, their quoted output compared with what the command prints.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import * as engine from '../src/engine/index.js';
import { Fleet, RULES, validate } from '../src/engine/index.js';
import { httpsCall, startChildServer } from './server/child-server.js';
import { repositoryFile } from './fixtures.js';

const ROOT = repositoryFile('.').pathname;
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`);
const DOCUMENTS = ['README.md', ...DOCS];

interface Block {
  readonly info: string;
  readonly text: string;
  /** The 1-based line of the opening fence. */
  readonly line: number;
  /** The HTML comment on the line before the fence, if any. */
  readonly marker?: string;
}

/** The fenced code blocks of a Markdown text (fences may be indented, as in list items). */
function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let at = 0; at < lines.length; at++) {
    const open = /^(\s*)```(\S*)/.exec(lines[at]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const end = lines.findIndex((line, index) => index > at && /^\s*```\s*$/.test(line));
    const marker = /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(lines[at - 1] ?? '')?.[1];
    const text = lines.slice(at + 1, end).map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join('\n');
    blocks.push({ info: open[2]!, text, line: at + 1, ...(marker ? { marker } : {}) });
    at = end;
  }
  return blocks;
}

/** The text outside code blocks and inline code, where links live. */
function prose(markdown: string): string {
  return markdown
    .replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, '')
    .replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutCode = markdown.replace(/^\s*```[\s\S]*?^\s*```\s*$/gm, '');
  for (const match of withoutCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const text = match[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

describe('README, the front door', () => {
  const readme = read('README.md');

  it('fits on a few screens', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  });

  it('tells a new user to run npm ci, npm start and npm test', () => {
    for (const command of ['npm ci', 'npm start', 'npm test']) expect(readme).toContain(command);
  });

  it('has a line for every document of docs/ under "Where to read on"', () => {
    const readOn = readme.slice(readme.indexOf('## Where to read on'));
    const listed = [...readOn.matchAll(/^- \[(docs\/[\w.-]+\.md)\]\(\1\): \S/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual(DOCS);
  });
});

describe('docs/', () => {
  it.each(DOCS)('%s opens by saying who it is for', (path) => {
    const [title, opening] = read(path).split('\n\n');
    expect(title).toMatch(/^# \S/);
    expect(opening).toMatch(/^For (whoever|the) /);
  });

  it('rules.md is what `npm run docs` makes of the rule catalogue', async () => {
    const generator = (await import(repositoryFile('scripts/generate-docs.mjs').href)) as { rulesDocument(engine: unknown): string };
    expect(read('docs/rules.md'), 'run `npm run docs`').toBe(generator.rulesDocument(engine));
    for (const rule of RULES) expect(read('docs/rules.md')).toContain(`## ${rule.id}\n`);
  });
});

describe('links', () => {
  it.each(DOCUMENTS)('every relative link and #anchor in %s resolves', (path) => {
    const broken: string[] = [];
    for (const target of links(read(path))) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const resolved = file === '' ? path : normalize(join(dirname(path), decodeURIComponent(file)));
      if (resolved.startsWith('..') || !existsSync(join(ROOT, resolved))) {
        broken.push(`${target}: no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith('.md') || statSync(join(ROOT, resolved)).isDirectory()) {
        broken.push(`${target}: an anchor in a file that is not Markdown`);
      } else if (!anchors(read(resolved)).has(anchor)) {
        broken.push(`${target}: ${resolved} has no heading for #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds a broken file, a broken anchor, and the anchors GitHub makes (the check itself)', () => {
    expect(anchors('# A `serve` title\n## Roll back, and (more)\n## Roll back, and (more)\n```\n# not a heading\n```\n')).toEqual(
      new Set(['a-serve-title', 'roll-back-and-more', 'roll-back-and-more-1']),
    );
    expect(links('[a](docs/x.md#y) `[b](no.md)` ![c](img.svg)\n```\n[d](e.md)\n```\n')).toEqual(['docs/x.md#y', 'img.svg']);
  });
});

describe('shell blocks', () => {
  const shellBlocks = DOCUMENTS.flatMap((path) => codeBlocks(read(path)).filter((block) => block.info === 'sh').map((block) => ({ path, ...block })));

  it('never change directory, so that they run one after another from the repository root', () => {
    const moving = shellBlocks.filter((block) => /^\s*(cd|pushd)\s/m.test(block.text)).map((block) => `${block.path}:${block.line}`);
    expect(shellBlocks.length).toBeGreaterThan(30);
    expect(moving).toEqual([]);
  });

  // The blocks that need no cluster, run for real, in order, in a copy of the repository.
  const copy = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-docs-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  const runnable = shellBlocks.filter((block) => block.marker?.startsWith('docs-test: run'));

  it('marks the blocks to run in README and the guides', () => {
    expect(new Set(runnable.map((block) => block.path))).toEqual(new Set(['README.md', 'docs/helm.md', 'docs/validate.md']));
  });

  it('run from the repository root, in order, with the exit status and the output the documents quote', { timeout: 120_000 }, () => {
    const tracked = spawnSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\0').filter(Boolean);
    for (const file of tracked) {
      if (!existsSync(join(ROOT, file))) continue;
      mkdirSync(join(copy, dirname(file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
    }
    for (const built of ['node_modules', 'dist']) symlinkSync(join(ROOT, built), join(copy, built));
    for (const block of runnable) {
      const where = `${block.path}:${block.line}`;
      const options = block.marker!.split(',').map((part) => part.trim());
      const status = Number(/^exit (\d+)$/.exec(options.find((part) => part.startsWith('exit')) ?? 'exit 0')![1]);
      const run = spawnSync('bash', ['-e', '-c', `trap 'echo "cwd=$PWD" >&2' EXIT\n${block.text}`], {
        cwd: copy,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' },
      });
      expect(run.status, `${where}\n${run.stderr}`).toBe(status);
      expect(run.stderr.trim().split('\n').at(-1), where).toBe(`cwd=${copy}`);
      if (!options.includes('output')) continue;
      const quoted = codeBlocks(read(block.path)).find((candidate) => candidate.line > block.line && candidate.info === 'text');
      const printed = new Set(run.stdout.split('\n'));
      const missing = (quoted?.text.split('\n') ?? ['(no text block)']).filter((line) => line !== '...' && !printed.has(line));
      expect(missing, where).toEqual([]);
    }
  });

  it('make a certificate that the webhook serves for the Service name (helm.md, existingSecret)', async () => {
    const certs = join(copy, 'webhook-certs');
    expect(existsSync(join(certs, 'tls.key')), 'the blocks of docs/helm.md ran first').toBe(true);
    const server = await startChildServer(['--host', '127.0.0.1', '--port', '0', '--cert-dir', certs]);
    try {
      const answer = await httpsCall(server.port, {
        ca: readFileSync(join(certs, 'ca.crt')),
        host: '127.0.0.1',
        servername: 'mcpserver-webhook.mcpserver-webhook.svc',
        path: '/healthz',
      });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('the answers the guides quote', () => {
  const jsonBlocks = (path: string): unknown[] =>
    codeBlocks(read(path))
      .filter((block) => block.info === 'json')
      .flatMap((block) => {
        try {
          return [JSON.parse(block.text) as unknown];
        } catch {
          return []; // a block that abbreviates with "..." quotes a shape, not an answer
        }
      });

  it('are what the server answers, for the review of serve.md and the object of verdict-api.md', async () => {
    const certs = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-docs-certs-'));
    const server = await startChildServer(['--dev-certs', '--host', '127.0.0.1', '--port', '0', '--cert-dir', certs]);
    try {
      const ca = readFileSync(join(certs, 'ca.crt'));
      const review = await httpsCall(server.port, { ca, host: '127.0.0.1', servername: 'localhost', body: read('examples/admission-review.json') });
      expect(jsonBlocks('docs/serve.md')).toContainEqual(JSON.parse(review.body));
      const curl = codeBlocks(read('docs/verdict-api.md')).find((block) => block.info === 'sh' && block.text.includes('/v1/verdict'));
      const object = /--data '([^']+)'/.exec(curl?.text ?? '')?.[1];
      expect(object).toBeDefined();
      const verdict = await httpsCall(server.port, { ca, host: '127.0.0.1', servername: 'localhost', path: '/v1/verdict', body: object! });
      expect(jsonBlocks('docs/verdict-api.md')).toContainEqual(JSON.parse(verdict.body));
      const overHttp = JSON.stringify(load(read('examples/invalid/credential-over-plaintext.yaml')));
      const inCluster = await httpsCall(server.port, { ca, host: '127.0.0.1', servername: 'localhost', path: '/v1/verdict?context=admission', body: overHttp });
      expect(jsonBlocks('docs/verdict-api.md')).toContainEqual(JSON.parse(inCluster.body));
    } finally {
      await server.stop();
      rmSync(certs, { recursive: true, force: true });
    }
  });
});

describe('where-mistakes-are-caught.md', () => {
  const text = read('docs/where-mistakes-are-caught.md');
  const transcript = readFileSync(repositoryFile('test/recorded/kubectl-transcript.txt'), 'utf8');

  /** What kubectl printed for each example of examples/invalid/ in the recording, by file. */
  function recordedOutputs(): Map<string, string> {
    const outputs = new Map<string, string>();
    for (const entry of transcript.split(/\n(?=\$ )/)) {
      const file = /^\$ kubectl apply -f examples\/invalid\/(\S+)\n/.exec(entry)?.[1];
      if (file && !outputs.has(file)) outputs.set(file, entry.slice(entry.indexOf('\n') + 1));
    }
    return outputs;
  }

  /** What the recorded output says caught the example. */
  function caughtBy(output: string): string {
    if (output.includes('strict decoding error')) return "kubectl's field validation";
    const tagged = /\[[a-z-]+\]$/m.test(output);
    if (output.includes('[exit 0]')) return tagged ? 'the webhook: warning' : 'nothing';
    if (/is invalid: .*\[[a-z-]+\]$|^\* .*\[[a-z-]+\]$/m.test(output)) return 'the webhook: denied';
    return output.includes('Invalid value: "object"') ? "the CRD's CEL rules" : "the CRD's schema";
  }

  function table(name: string): Map<string, { by: string; detail: string }> {
    const part = text.slice(text.indexOf(`<!-- ${name}:start`), text.indexOf(`<!-- ${name}:end`));
    return new Map([...part.matchAll(/^\| `([\w.-]+\.yaml)` \| ([^|]+) \| (.+) \|$/gm)].map((match) => [match[1]!, { by: match[2]!.trim(), detail: match[3]! }]));
  }

  it('has every invalid example once, caught as the recording through a real API server shows, with the rules the engine names', () => {
    const recorded = recordedOutputs();
    const documented = table('where-caught');
    const added = table('where-caught-added');
    const examples = readdirSync(repositoryFile('examples/invalid')).sort();
    expect([...documented.keys(), ...added.keys()].sort()).toEqual(examples);
    // Recorded files are in the first table, and caught as recorded; the API server's words are its own.
    expect([...documented.keys()]).toEqual(examples.filter((file) => recorded.has(file)));
    for (const [file, { by, detail }] of documented) {
      expect(by, file).toBe(caughtBy(recorded.get(file)!));
      if (!by.startsWith('the webhook')) for (const words of detail.matchAll(/`([^`]+)`/g)) expect(recorded.get(file), file).toContain(words[1]);
    }
    // Every row the webhook catches names the rules the engine applies at admission today.
    for (const [file, { by, detail }] of [...documented, ...added]) {
      if (!by.startsWith('the webhook')) continue;
      // As the webhook judges when it watches Secrets (none exist here) and sees no other MCPServer.
      const verdict = validate(load(read(`examples/invalid/${file}`)), { context: 'admission', fleet: new Fleet([], { has: () => false }) });
      const named = new Set([...detail.matchAll(/`([a-z-]+)`/g)].map((match) => match[1]!));
      const denying = new Set(verdict.denials.map((finding) => finding.rule));
      expect(by, file).toBe(denying.size > 0 ? 'the webhook: denied' : 'the webhook: warning');
      for (const rule of denying.size > 0 ? denying : new Set(verdict.warnings.map((finding) => finding.rule))) expect(named, file).toContain(rule);
      for (const rule of named) expect([...denying, ...verdict.warnings.map((finding) => finding.rule)], file).toContain(rule);
    }
    const all = [...documented.values(), ...added.values()];
    const count = (by: string): number => all.filter((row) => row.by === by).length;
    const [cel, schema, field, denied, warned] = ["the CRD's CEL rules", "the CRD's schema", "kubectl's field validation", 'the webhook: denied', 'the webhook: warning'].map(count);
    expect(text.replace(/\s+/g, ' ')).toContain(
      `Of the ${all.length} examples, ${cel! + schema!} are refused by the CRD (${cel} by its CEL rules, ${schema} by its schema) and ${field} by field validation, before any webhook is called; ${denied} are denied by the webhook and ${warned} are let through with its warning.`,
    );
  });
});
