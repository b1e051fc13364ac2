import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, workspace } from './run-cli.js';

interface JsonReport {
  results: { file: string; index: number; item?: number; name: string | null; namespace: string | null; allowed: boolean; denials: { rule: string; path: string; message: string; line: number }[]; warnings: { rule: string }[]; audits: { rule: string }[] }[];
  errors: { file: string; line?: number; message: string }[];
  summary: { files: number; checked: number; allowed: number; denied: number; withWarnings: number; skipped: number; errors: number };
}


const server = (name: string, spec: string, extra = '') => `apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: ${name}
  namespace: muster${extra}
spec:
${spec}`;
const GOOD = server('good', '  type: streamable-http\n  url: https://mcp.example.com/mcp\n');
const BAD = server('bad', '  type: stdio\n  args: [serve]\n');

describe('mcpserver-webhook validate', () => {
  it('lists its commands with --help', async () => {
    const run = await runCli(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Commands:\n(.|\n)*validate/);
    const validateHelp = await runCli(['validate', '--help']);
    expect(validateHelp.status).toBe(0);
    expect(validateHelp.stdout).toContain('--output FORMAT');
  });

  it('exits 1 on examples/ and tells a new user what to fix, with file and line', async () => {
    const run = await runCli(['validate', 'examples/']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(
      'examples/invalid/stdio-command-required.yaml:7: muster/stdio-without-command: spec.command: is required when spec.type is stdio',
    );
    // Each line names the field once.
    expect(run.stdout).not.toMatch(/(spec\.[\w.[\]-]+): \1/);
    expect(run.stderr).toBe('');
  });

  it('prints the findings of a file in the order of their lines, across its documents', async () => {
    const twoProblems = server('two', '  type: http\n  timeout: 600\n');
    const dir = workspace({ 'two.yaml': `${twoProblems}---\n${BAD}` });
    const run = await runCli(['validate', 'two.yaml'], { cwd: dir });
    const lines = run.stdout.split('\n').filter((line) => line.startsWith('two.yaml:'));
    // Line 1: the object as a whole, whose CEL rules a type outside the enum kept from running.
    expect(lines.map((line) => Number(line.split(':')[1]))).toEqual([1, 7, 8, 15]);
    expect(lines[0]).toContain('[crd-cel-unchecked]');
    expect(lines[1]).toContain('spec.type:');
  });

  it('says that audit-only findings exist, and where to see them, when the text shows none', async () => {
    const run = await runCli(['validate', 'examples/vendor-tools.yaml']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(
      '1 MCPServer checked in 1 file: 0 denied, 1 allowed; 1 audit-only finding, recorded but not shown here: --output json lists it\n',
    );
    const json = JSON.parse((await runCli(['validate', '-o', 'json', 'examples/vendor-tools.yaml'])).stdout) as JsonReport;
    expect(json.results[0]?.audits.map((finding) => finding.rule)).toEqual(['header-unresolved-placeholder']);
  });

  it('exits 0 when nothing is denied, and prints warnings', async () => {
    const run = await runCli(['validate', 'examples/atlassian.yaml', 'examples/oauth-discovery.yaml']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('[authorization-server-override] (warning)');
    expect(run.stdout).toContain('2 MCPServers checked in 2 files: 0 denied, 2 allowed (1 with warnings)');
  });

  it('reads multi-document files, skips and counts other kinds, checks List items, and skips other projects\' MCPServer kinds', async () => {
    const dir = workspace({
      'all.yaml': `${GOOD}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n${BAD.trimEnd().replace(/^/gm, '    ').replace(/^    apiVersion/m, '  - apiVersion')}\n---\napiVersion: toolhive.stacklok.dev/v1alpha1\nkind: MCPServer\nmetadata: {name: other}\nspec: {}\n`,
    });
    const run = await runCli(['validate', '-o', 'json', 'all.yaml'], { cwd: dir });
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(run.status).toBe(1);
    expect(report.results.map((r) => [r.index, r.item, r.name, r.allowed])).toEqual([
      [0, undefined, 'good', true],
      [2, 0, 'bad', false],
    ]);
    expect(report.results[1]?.denials[0]).toMatchObject({ rule: 'stdio-command-required', path: 'spec.command', line: 24 });
    expect(report.summary).toMatchObject({ files: 1, checked: 2, allowed: 1, denied: 1, skipped: 2, errors: 0 });
  });

  it('walks folders recursively for .yaml, .yml and .json, and passes over hidden folders and other files', async () => {
    const dir = workspace({
      'a/one.yaml': GOOD,
      'a/b/two.yml': GOOD,
      'a/b/three.json': JSON.stringify({ apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name: 'three' }, spec: { type: 'sse', url: 'https://x.example.com/sse' } }),
      'a/.git/ignored.yaml': BAD,
      'a/notes.txt': 'not yaml: [',
    });
    const report = JSON.parse((await runCli(['validate', '-o', 'json', 'a'], { cwd: dir })).stdout) as JsonReport;
    expect(report.results.map((r) => r.file)).toEqual(['a/b/three.json', 'a/b/two.yml', 'a/one.yaml']);
    expect(report.summary.denied).toBe(0);
  });

  it('reads standard input with -', async () => {
    const run = await runCli(['validate', '-'], { stdin: BAD });
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('<stdin>:6: muster/bad: spec.command:');
  });

  it('reports a YAML syntax error as file:line: message, without a stack trace, and still checks the other documents and files', async () => {
    const dir = workspace({ 'broken.yaml': `${BAD}---\nkind: [oops\n---\n${GOOD}`, 'fine.yaml': GOOD });
    const run = await runCli(['validate', '.'], { cwd: dir });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^broken\.yaml:\d+: .+\n$/);
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(run.stdout).toContain('broken.yaml:6: muster/bad:');
    expect(run.stdout).toContain('3 MCPServers checked in 2 files: 1 denied, 2 allowed; 1 input error');
  });

  it('rejects duplicate keys, which kubectl would also refuse', async () => {
    const dir = workspace({ 'dup.yaml': GOOD.replace('spec:', 'spec:\n  type: sse') });
    const run = await runCli(['validate', 'dup.yaml'], { cwd: dir });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('dup.yaml:8: 1st document (muster/good): the same key appears twice in one map (kubectl refuses that too): keep one\n');
  });

  it('names the file, the document, the line where an unclosed quote opens and why, for a multi-document file', async () => {
    const broken = server('vendor-tools', '  type: streamable-http\n  url: "https://tools.vendor.example.com/mcp\n  headers:\n    X-Tenant: acme\n');
    const dir = workspace({ 'multi.yaml': `${GOOD}---\n${broken}---\n${BAD}` });
    const run = await runCli(['validate', 'multi.yaml'], { cwd: dir });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('multi.yaml:17: 2nd document (muster/vendor-tools): a double-quoted string is not closed: the closing " is missing\n');
    const json = JSON.parse((await runCli(['validate', '-o', 'json', 'multi.yaml'], { cwd: dir })).stdout) as JsonReport;
    expect(json.errors).toEqual([{ file: 'multi.yaml', index: 1, line: 17, message: expect.stringMatching(/^2nd document \(muster\/vendor-tools\): /) }]);
    expect(json.results.map((result) => result.index)).toEqual([0, 2]);
  });

  it('exits 2 for usage errors and unreadable input, naming the problem in one line', async () => {
    for (const args of [['validate'], ['validate', '-o', 'xml', 'examples'], ['validate', '--context', 'git', 'examples'], ['validate', '--bogus', 'examples'], ['frobnicate']]) {
      const run = await runCli(args);
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr.split('\n')[0]).toMatch(/^mcpserver-webhook/);
    }
    const relative = await runCli(['validate', '--rules-url', 'docs/rules.md', 'examples']);
    expect(relative.stderr).toBe('mcpserver-webhook validate: --rules-url must be an absolute URL, e.g. https://github.com/OWNER/mcpserver-webhook/blob/REF/docs/rules.md\n');
    const missing = await runCli(['validate', 'no-such-folder', 'examples/oauth-discovery.yaml']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('no-such-folder: cannot read: no such file or folder\n');
    expect(missing.stdout).toContain('1 MCPServer checked in 1 file');
  });

  it('applies --policy and --context', async () => {
    const dir = workspace({
      'policy.yaml': 'rules:\n  authorization-server-override: deny\n',
      'broken-policy.yaml': 'rules:\n  authorization-server-overide: deny\n',
    });
    const denied = await runCli(['validate', '--policy', join(dir, 'policy.yaml'), 'examples/atlassian.yaml']);
    expect(denied.status).toBe(1);
    const broken = await runCli(['validate', '--policy', join(dir, 'broken-policy.yaml'), 'examples/atlassian.yaml']);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain(`${join(dir, 'broken-policy.yaml')}:2: rules: authorization-server-overide is not a rule ID`);
    const inGit = await runCli(['validate', 'examples/vendor-tools.yaml']);
    expect(inGit.status).toBe(0);
    const atAdmission = await runCli(['validate', '--context', 'admission', 'examples/vendor-tools.yaml']);
    expect(atAdmission.status).toBe(1);
    expect(atAdmission.stdout).toContain('[header-unresolved-placeholder]');
  });

  it('uses the labels of Namespace documents for policy label selectors', async () => {
    const dir = workspace({
      'policy.yaml': 'namespaces:\n  - selector: {matchLabels: {mesh: istio}}\n    rules: {plaintext-url: deny}\n',
      'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: muster\n  labels: {mesh: istio}\n',
      'server.yaml': server('plain', '  type: sse\n  url: http://search:8080/sse\n'),
    });
    expect((await runCli(['validate', '--policy', 'policy.yaml', 'server.yaml'], { cwd: dir })).status).toBe(0);
    expect((await runCli(['validate', '--policy', 'policy.yaml', 'ns.yaml', 'server.yaml'], { cwd: dir })).status).toBe(1);
  });

  it('colours the text only for a terminal', async () => {
    const run = await runCli(['validate', 'examples/invalid/plaintext-url.yaml']);
    expect(run.stdout).not.toContain('\u001b[');
    const { main } = (await import(`${ROOT}dist/cli/main.js`)) as { main(argv: string[], io: unknown): Promise<number> };
    let printed = '';
    const stdout = Object.assign(new (await import('node:stream')).Writable({ write(chunk, _encoding, done) { printed += String(chunk); done(); } }), { isTTY: true });
    await main(['validate', `${ROOT}examples/invalid/plaintext-url.yaml`], { stdout, stderr: stdout, stdin: process.stdin, env: {} });
    expect(printed).toContain('\u001b[33m');
    printed = '';
    await main(['validate', `${ROOT}examples/invalid/plaintext-url.yaml`], { stdout, stderr: stdout, stdin: process.stdin, env: { NO_COLOR: '1' } });
    expect(printed).not.toContain('\u001b[');
  });

  it('checks 10,000 documents in one run', async () => {
    const document = readFileSync(`${ROOT}examples/vendor-tools.yaml`, 'utf8');
    const dir = workspace({ 'many.yaml': Array.from({ length: 10_000 }, (_, i) => document.replace('name: vendor-tools', `name: vendor-tools-${i}`)).join('---\n') });
    const run = await runCli(['validate', '-o', 'json', 'many.yaml'], { cwd: dir });
    const report = JSON.parse(run.stdout) as JsonReport;
    expect(report.summary.checked).toBe(10_000);
    expect(report.results[9_999]?.name).toBe('vendor-tools-9999');
    expect(existsSync(dir)).toBe(true);
  });
});
