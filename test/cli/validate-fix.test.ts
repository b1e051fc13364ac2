import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/engine/index.js';
import { runCli, workspace } from './run-cli.js';

/** A file a person wrote: comments, quoting, key order of their own, and fixable mistakes. */
const LEFTOVERS = `# Tools of the vendor, as we run them
apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: vendor   # the name users see
  namespace: muster
spec:
  type: streamable-http
  url: "https://tools.example.com/mcp"
  toolprefix: vendor      # misspelt
  args: [serve]
  env:
    LOG_LEVEL: debug
  auth:
    type: oauth
    authorizationServer:
      issuer: 'https://auth.example.com/'
---
# A second document, untouched
apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: fine
  namespace: muster
spec:
  type: streamable-http
  url: https://fine.example.com/mcp
`;

const FIXED = `# Tools of the vendor, as we run them
apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: vendor   # the name users see
  namespace: muster
spec:
  type: streamable-http
  url: "https://tools.example.com/mcp"
  toolPrefix: vendor      # misspelt
  auth:
    type: oauth
    authorizationServer:
      issuer: 'https://auth.example.com'
---
# A second document, untouched
apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata:
  name: fine
  namespace: muster
spec:
  type: streamable-http
  url: https://fine.example.com/mcp
`;

describe('validate --fix', () => {
  it('applies the safe fixes in place, keeping comments, quoting and key order, says what it changed, and judges the file again', async () => {
    const dir = workspace({ 'vendor.yaml': LEFTOVERS });
    const file = join(dir, 'vendor.yaml');
    const before = await runCli(['validate', file]);
    expect(before.status).toBe(1);

    const run = await runCli(['validate', '--fix', file]);
    expect(readFileSync(file, 'utf8')).toBe(FIXED);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      `${file}:10: muster/vendor: spec.toolprefix: fixed: rename spec.toolprefix to spec.toolPrefix [unknown-field]`,
      `${file}:11: muster/vendor: spec.args: fixed: remove spec.args, which a remote server does not take [args-stdio-only]`,
      `${file}:12: muster/vendor: spec.env: fixed: remove spec.env, which Muster ignores for remote servers [env-ignored-for-remote]`,
      `${file}:17: muster/vendor: spec.auth.authorizationServer.issuer: fixed: drop the trailing slash of the issuer [authorization-server-issuer]`,
    ]);
    // What is left is the override's own warning: nothing denied.
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('[authorization-server-override] (warning)');
    expect(run.stdout).not.toContain('[unknown-field]');
    for (const object of loadAll(FIXED)) expect(validate(object, { context: 'manifest' }).allowed).toBe(true);
  });

  it('with --dry-run prints a unified diff and changes nothing', async () => {
    const dir = workspace({ 'vendor.yaml': LEFTOVERS });
    const run = await runCli(['validate', '--fix', '--dry-run', 'vendor.yaml'], { cwd: dir });
    expect(readFileSync(join(dir, 'vendor.yaml'), 'utf8')).toBe(LEFTOVERS);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe(`--- a/vendor.yaml
+++ b/vendor.yaml
@@ -7,14 +7,11 @@
 spec:
   type: streamable-http
   url: "https://tools.example.com/mcp"
-  toolprefix: vendor      # misspelt
-  args: [serve]
-  env:
-    LOG_LEVEL: debug
+  toolPrefix: vendor      # misspelt
   auth:
     type: oauth
     authorizationServer:
-      issuer: 'https://auth.example.com/'
+      issuer: 'https://auth.example.com'
 ---
 # A second document, untouched
 apiVersion: muster.giantswarm.io/v1alpha1
`);
    expect(run.stderr).toContain('vendor.yaml:10: muster/vendor: spec.toolprefix: would fix: rename spec.toolprefix to spec.toolPrefix [unknown-field]');
  });

  it('leaves alone what it cannot edit as text, and the fixes a person should confirm, and says which', async () => {
    const text = `apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata: {name: local, namespace: muster}
spec:
  type: stdio
  command: mcp-local
  auth: {type: none, forwardToken: true}
---
apiVersion: muster.giantswarm.io/v1alpha1
kind: MCPServer
metadata: {name: events, namespace: muster}
spec:
  type: sse
  url: https://events.example.com/sse
  auth:
    type: oauth
`;
    const dir = workspace({ 'local.yaml': text });
    const run = await runCli(['validate', '--fix', 'local.yaml'], { cwd: dir });
    expect(readFileSync(join(dir, 'local.yaml'), 'utf8')).toBe(text);
    expect(run.stderr).toBe('local.yaml:7: muster/local: spec.auth: not fixed, as the file writes it in a form --fix does not edit: remove spec.auth.forwardToken, which Muster ignores for stdio servers [auth-ignored-for-stdio]\n');
    expect(run.status).toBe(0);
  });

  it('moves a field to where it belongs, and refuses standard input without --dry-run and --dry-run without --fix', async () => {
    const dir = workspace({ 'moved.yaml': 'apiVersion: muster.giantswarm.io/v1alpha1\nkind: MCPServer\nmetadata:\n  namespace: muster\nspec:\n  name: moved\n  type: stdio\n  command: mcp-local\n' });
    await runCli(['validate', '--fix', 'moved.yaml'], { cwd: dir });
    expect(load(readFileSync(join(dir, 'moved.yaml'), 'utf8'))).toEqual({
      apiVersion: 'muster.giantswarm.io/v1alpha1',
      kind: 'MCPServer',
      metadata: { namespace: 'muster', name: 'moved' },
      spec: { type: 'stdio', command: 'mcp-local' },
    });
    const stdin = await runCli(['validate', '--fix', '-'], { stdin: 'a: 1\n' });
    expect(stdin.status).toBe(2);
    expect(stdin.stderr).toContain('--fix writes the files it fixes, and standard input is no file');
    const dryRun = await runCli(['validate', '--dry-run', 'moved.yaml'], { cwd: dir });
    expect(dryRun.status).toBe(2);
    expect(dryRun.stderr).toContain('--dry-run goes with --fix');
  });

  it('SARIF results carry their fix as replacements of the file, which give the fixed file', async () => {
    const dir = workspace({ 'vendor.yaml': LEFTOVERS });
    const run = await runCli(['validate', '-o', 'sarif', 'vendor.yaml'], { cwd: dir });
    const sarif = JSON.parse(run.stdout) as {
      runs: { tool: { driver: { rules: Record<string, unknown>[] } }; results: { ruleId: string; fixes?: { artifactChanges: { replacements: { deletedRegion: { charOffset: number; charLength: number }; insertedContent: { text: string } }[] }[] }[] }[] }[];
    };
    const [sarifRun] = sarif.runs;
    const replacements = (sarifRun?.results ?? []).flatMap((result) => result.fixes ?? []).flatMap((fix) => fix.artifactChanges.flatMap((change) => change.replacements));
    expect(replacements).toHaveLength(4);
    let text = LEFTOVERS;
    for (const { deletedRegion, insertedContent } of [...replacements].sort((a, b) => b.deletedRegion.charOffset - a.deletedRegion.charOffset)) {
      text = text.slice(0, deletedRegion.charOffset) + insertedContent.text + text.slice(deletedRegion.charOffset + deletedRegion.charLength);
    }
    expect(text).toBe(FIXED);
    // Without --rules-url, no help link: a path of the machine that ran it helps no one else.
    expect(sarifRun?.tool.driver.rules.some((rule) => 'helpUri' in rule)).toBe(false);
  });
});

describe('validate on a folder without manifests', () => {
  it('says so and exits 2, rather than passing in silence', async () => {
    const dir = workspace({ 'README.md': '# nothing here\n' });
    const run = await runCli(['validate', dir]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`${dir}: holds no .yaml, .yml or .json file to check\n`);
  });
});
