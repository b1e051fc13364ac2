/**
 * The CI integration as far as it runs without GitHub or GitLab: the action's and the GitLab
 * job's definitions are read from their files, and their validate steps run for real (bash, the
 * built CLI, a workspace holding examples/) with the environment each CI system would give them.
 * What cannot run here: actions/setup-node, and the installs (npm ci, npm install from Git), which
 * need the network; the install from Git was run by hand (npm 11.19, from a git+file URL).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { VALIDATE_USAGE } from '../src/cli/validate-command.js';
import { repositoryFile } from './fixtures.js';

const ROOT = repositoryFile('.').pathname;
const read = (path: string): string => readFileSync(repositoryFile(path), 'utf8');

interface ActionStep {
  id?: string;
  uses?: string;
  shell?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Action {
  inputs: Record<string, { default?: string; required?: boolean }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}
interface GitLabJob {
  image: string;
  variables: Record<string, string>;
  script: string[];
  artifacts: { when: string; paths: string[] };
}

const action = load(read('action.yml')) as Action;
const gitlab = load(read('ci/mcpserver-webhook.gitlab-ci.yml')) as Record<string, GitLabJob>;
/** The settings ci/validate.sh reads. */
const scriptSettings = [...new Set([...read('ci/validate.sh').matchAll(/\$\{(MCPSERVER_[A-Z_]+)/g)].map((match) => match[1]!))].sort();

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A repository of a user's: examples/ copied to deploy/, and a policy file. */
function userRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-ci-'));
  workspaces.push(dir);
  cpSync(repositoryFile('examples').pathname, join(dir, 'deploy'), { recursive: true });
  return dir;
}

/** `${{ inputs.NAME }}` and `${{ github.action_path }}`, the only expressions the step may use. */
function evaluate(value: string, inputs: Record<string, string>): string {
  return value.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, expression: string) => {
    if (expression === 'github.action_path') return ROOT;
    // What a runner has for an action used as OWNER/mcpserver-webhook@v1.
    const github: Record<string, string> = { 'github.server_url': 'https://github.com', 'github.action_repository': 'example/mcpserver-webhook', 'github.action_ref': 'v1' };
    if (expression in github) return github[expression]!;
    const input = /^inputs\.([\w-]+)$/.exec(expression)?.[1];
    if (input === undefined || !(input in action.inputs)) throw new Error(`action.yml uses an expression the test does not know: ${expression}`);
    return inputs[input] ?? action.inputs[input]?.default ?? '';
  });
}

const baseEnvironment = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' });

/** What `validate examples/` prints run directly, its paths as the workspace has them (deploy/). */
function directValidateLines(): string[] {
  const run = spawnSync(process.execPath, [join(ROOT, 'bin/mcpserver-webhook.js'), 'validate', 'examples/'], { cwd: ROOT, encoding: 'utf8', env: baseEnvironment() });
  // File names appear at the start of a line and where a conflict names the other file.
  return run.stdout.trimEnd().split('\n').map((line) => line.replaceAll('examples/', 'deploy/'));
}

/** Runs the action's validate step as the runner would: bash, in the workspace, with its env and GITHUB_* variables. */
function runActionStep(workspace: string, inputs: Record<string, string>) {
  const step = action.runs.steps.find((candidate) => candidate.id === 'validate');
  if (!step?.run) throw new Error('action.yml has no step with id validate');
  const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([name, value]) => [name, evaluate(value, inputs)]));
  const run = spawnSync('bash', ['-e', '-c', step.run], {
    cwd: workspace,
    encoding: 'utf8',
    env: { ...baseEnvironment(), ...env, GITHUB_ACTION_PATH: ROOT, GITHUB_WORKSPACE: workspace, GITHUB_ACTIONS: 'true', CI: 'true' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, sarifFile: join(workspace, evaluate(action.outputs['sarif-file']!.value, inputs)) };
}

interface Sarif {
  version: string;
  runs: {
    tool: { driver: { rules: { id: string; helpUri?: string }[] } };
    results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[];
  }[];
}
const readSarif = (file: string): Sarif => JSON.parse(readFileSync(file, 'utf8')) as Sarif;

describe('the GitHub Action (action.yml)', () => {
  it('is a composite action that sets up Node, installs from its own checkout, and validates', () => {
    expect(action.runs.using).toBe('composite');
    const [setup, install, validate] = action.runs.steps;
    expect(setup?.uses).toMatch(/^actions\/setup-node@v\d+$/);
    expect(install?.run).toBe('npm ci --prefix "$GITHUB_ACTION_PATH" --no-audit --no-fund');
    expect(validate?.id).toBe('validate');
    expect(Object.keys(action.inputs)).toEqual(expect.arrayContaining(['paths', 'context', 'policy', 'crd', 'sarif-file']));
    // Inputs reach the script through the environment, never spliced into its text.
    for (const step of action.runs.steps) expect(step.run ?? '').not.toContain('${{');
    expect(Object.keys(validate?.env ?? {}).sort()).toEqual(scriptSettings);
  });

  it('writes SARIF and fails the step when a manifest is denied', () => {
    const workspace = userRepository();
    const run = runActionStep(workspace, { paths: 'deploy/' });
    expect(run.status).toBe(1);
    // The same lines as validate run by hand, after the command the script echoes.
    expect(run.stdout.trimEnd().split('\n').slice(1)).toEqual(directValidateLines());
    const sarif = readSarif(run.sarifFile);
    expect(sarif.version).toBe('2.1.0');
    const uris = sarif.runs[0]!.results.map((result) => result.locations[0]!.physicalLocation.artifactLocation.uri);
    expect(uris).toContain('deploy/invalid/credential-over-plaintext.yaml');
    // Each rule links to its section of the rule reference in the action's own repository and ref.
    for (const rule of sarif.runs[0]!.tool.driver.rules) expect(rule.helpUri).toBe(`https://github.com/example/mcpserver-webhook/blob/v1/docs/rules.md#${rule.id}`);
  });

  it('passes when nothing is denied, with several paths on several lines', () => {
    const workspace = userRepository();
    const run = runActionStep(workspace, { paths: 'deploy/atlassian.yaml\ndeploy/forward-token.yaml deploy/vendor-tools.yaml', 'sarif-file': 'scan.sarif' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('3 MCPServers checked in 3 files: 0 denied, 3 allowed');
    expect(readSarif(run.sarifFile).runs[0]!.results.map((result) => result.ruleId)).toEqual(['authorization-server-override']);
  });

  it('passes the context and the policy on', () => {
    const workspace = userRepository();
    expect(runActionStep(workspace, { paths: 'deploy/vendor-tools.yaml', context: 'admission' }).status).toBe(1);
    writeFileSync(join(workspace, 'strict.yaml'), 'rules:\n  authorization-server-override: deny\n');
    expect(runActionStep(workspace, { paths: 'deploy/atlassian.yaml' }).status).toBe(0);
    const strict = runActionStep(workspace, { paths: 'deploy/atlassian.yaml', policy: 'strict.yaml' });
    expect(strict.stdout).toContain('mcpserver-webhook validate --context manifest --policy strict.yaml deploy/atlassian.yaml');
    expect(strict.status).toBe(1);
  });

  it('passes the crd input as --crd, and nothing when it is empty', () => {
    const workspace = userRepository();
    const crd = repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml').pathname;
    const withCrd = runActionStep(workspace, { paths: 'deploy/atlassian.yaml', crd });
    expect(withCrd.stdout.split('\n')[0]).toBe(`mcpserver-webhook validate --context manifest --crd ${crd} deploy/atlassian.yaml`);
    expect(runActionStep(workspace, { paths: 'deploy/atlassian.yaml' }).stdout.split('\n')[0]).not.toContain('--crd');
  });

  it.runIf(VALIDATE_USAGE.includes('--crd'))('validates against the CRD given as crd, once validate has --crd', () => {
    const workspace = userRepository();
    const crd = repositoryFile('schemas/upstream/muster.giantswarm.io_mcpservers.yaml').pathname;
    const run = runActionStep(workspace, { paths: 'deploy/atlassian.yaml', crd });
    expect(run.status).toBe(0);
    expect(existsSync(run.sarifFile)).toBe(true);
  });
});

describe('the GitLab CI job (ci/mcpserver-webhook.gitlab-ci.yml)', () => {
  const job = gitlab['.mcpserver-validate'];

  it('installs the command from a Git URL, sets every setting the script reads, and keeps the SARIF', () => {
    expect(job?.image).toMatch(/^node:(2\d)$/);
    expect(job?.script[0]).toBe('npm install --prefix "$HOME/mcpserver-webhook" --no-save --no-audit --no-fund "git+${MCPSERVER_WEBHOOK_GIT}#${MCPSERVER_WEBHOOK_REF}"');
    expect(job?.variables.MCPSERVER_WEBHOOK_GIT).toMatch(/^https:\/\/.+\.git$/);
    expect(Object.keys(job?.variables ?? {}).filter((name) => !name.startsWith('MCPSERVER_WEBHOOK_')).sort()).toEqual(scriptSettings);
    expect(job?.artifacts).toEqual({ when: 'always', paths: ['$MCPSERVER_SARIF'] });
    // A Git install packs what package.json lists: the script must be among it.
    expect((JSON.parse(read('package.json')) as { files: string[] }).files).toContain('ci/validate.sh');
  });

  it('runs the installed script on the repository, as npm install --prefix lays it out', () => {
    const workspace = userRepository();
    const home = mkdtempSync(join(tmpdir(), 'mcpserver-webhook-ci-home-'));
    workspaces.push(home);
    mkdirSync(join(home, 'mcpserver-webhook', 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(home, 'mcpserver-webhook', 'node_modules', 'mcpserver-webhook'));
    const variables = { ...job!.variables, MCPSERVER_PATHS: 'deploy/' };
    const run = spawnSync('bash', ['-e', '-c', job!.script[1]!], {
      cwd: workspace,
      encoding: 'utf8',
      env: { ...baseEnvironment(), ...variables, HOME: home, GITLAB_CI: 'true', CI: 'true' },
    });
    expect(run.status).toBe(1);
    expect(run.stdout.trimEnd().split('\n').slice(1)).toEqual(directValidateLines());
    const sarif = readSarif(join(workspace, 'gl-mcpserver-webhook.sarif'));
    expect(sarif.runs[0]!.results.length).toBeGreaterThan(10);
    // Without a URL the rules carry their help text and no link: a path of the runner's machine
    // would lead whoever reads the SARIF nowhere.
    for (const rule of sarif.runs[0]!.tool.driver.rules) expect(rule.helpUri).toBeUndefined();
  });
});
