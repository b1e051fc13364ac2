import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/engine/index.js';
import { ROOT, runCli } from './run-cli.js';

/**
 * The outputs people and tools read, pinned byte for byte: GitOps UIs and code scanning must
 * not see them flap. After an intended change: UPDATE_GOLDEN=1 npx vitest run test/cli/golden.test.ts
 */
const GOLDEN = new URL('./golden/', import.meta.url);

function expectGolden(name: string, actual: string): void {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

const FORMATS = [
  ['text', 'examples.txt'],
  ['json', 'examples.json'],
  ['sarif', 'examples.sarif'],
] as const;

describe('golden outputs of `validate examples/`', () => {
  it.each(FORMATS)('--output %s', async (format, golden) => {
    // A fixed rule reference, so the SARIF help links do not depend on where the repository is.
    const run = await runCli(['validate', '--output', format, '--rules-url', 'https://github.com/OWNER/mcpserver-webhook/blob/main/docs/rules.md', 'examples/']);
    expect(run.status).toBe(1);
    expectGolden(golden, run.stdout);
  });

  it('the JSON output keeps its documented contract', async () => {
    const report = JSON.parse((await runCli(['validate', '-o', 'json', 'examples/'])).stdout) as {
      results: Record<string, unknown>[];
      summary: Record<string, unknown>;
    };
    for (const result of report.results) {
      expect(Object.keys(result)).toEqual(expect.arrayContaining(['file', 'index', 'name', 'namespace', 'allowed', 'denials', 'warnings']));
      for (const finding of [...(result.denials as object[]), ...(result.warnings as object[])]) {
        expect(Object.keys(finding)).toEqual(expect.arrayContaining(['rule', 'path', 'message']));
      }
    }
    expect(report.summary).toMatchObject({ checked: report.results.length });
  });

  it('the SARIF output points each result at a rule and at the line of the offending field', async () => {
    const sarif = JSON.parse((await runCli(['validate', '-o', 'sarif', 'examples/invalid/authorization-server-issuer.yaml'])).stdout) as {
      version: string;
      runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[];
    };
    expect(sarif.version).toBe('2.1.0');
    const [run] = sarif.runs;
    expect(run?.tool.driver.rules.map((rule) => rule.id)).toEqual(RULES.map((rule) => rule.id));
    const issuer = run?.results.find((result) => result.ruleId === 'authorization-server-issuer');
    expect(issuer?.level).toBe('error');
    expect(run?.tool.driver.rules[issuer?.ruleIndex ?? -1]?.id).toBe('authorization-server-issuer');
    expect(issuer?.locations[0]?.physicalLocation).toEqual({
      artifactLocation: { uri: 'examples/invalid/authorization-server-issuer.yaml' },
      region: { startLine: 13 },
    });
    const lines = readFileSync(`${ROOT}examples/invalid/authorization-server-issuer.yaml`, 'utf8').split('\n');
    expect(lines[12]).toContain('issuer:');
  });
});
