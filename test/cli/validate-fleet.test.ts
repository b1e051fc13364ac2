import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from '../fixtures.js';
import { runCli, workspace } from './run-cli.js';

/** The example of a split family, as two files of a GitOps repository, in folders of their own. */
const alpha = readFileSync(repositoryFile('examples/fleet/family-consistency/mcp-kubernetes-alpha.yaml'), 'utf8');
const beta = readFileSync(repositoryFile('examples/fleet/family-consistency/mcp-kubernetes-beta.yaml'), 'utf8');

interface Related {
  file: string;
  line: number;
  name: string;
  namespace: string;
  path: string;
}

describe('validate across files', () => {
  it('finds a conflict between two files and names both places in every output', async () => {
    const dir = workspace({ 'clusters/alpha/mcpserver.yaml': alpha, 'clusters/beta/mcpserver.yaml': beta });
    const alphaFile = 'clusters/alpha/mcpserver.yaml';
    const betaFile = 'clusters/beta/mcpserver.yaml';

    const text = await runCli(['validate', '.'], { cwd: dir });
    expect(text.status).toBe(1);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${alphaFile}:17: muster-dev/mcp-kubernetes-alpha: spec\\.family\\.instanceArg: is management_cluster, but family kubernetes also has muster-dev/mcp-kubernetes-beta \\(cluster\\): .* \\[family-consistency\\] \\(see ${betaFile}:16\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^${betaFile}:16: muster-dev/mcp-kubernetes-beta: .* \\[family-consistency\\] \\(see ${alphaFile}:17\\)$`));

    const json = JSON.parse((await runCli(['validate', '-o', 'json', '.'], { cwd: dir })).stdout) as { results: { file: string; denials: { rule: string; related?: Related[] }[] }[] };
    expect(json.results.map((result) => result.denials[0]?.related)).toEqual([
      [{ file: betaFile, line: 16, name: 'mcp-kubernetes-beta', namespace: 'muster-dev', path: 'spec.family.instanceArg' }],
      [{ file: alphaFile, line: 17, name: 'mcp-kubernetes-alpha', namespace: 'muster-dev', path: 'spec.family.instanceArg' }],
    ]);

    const sarif = JSON.parse((await runCli(['validate', '-o', 'sarif', '.'], { cwd: dir })).stdout) as {
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[]; relatedLocations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[];
    };
    expect(
      sarif.runs[0]!.results.map((result) => [
        result.locations[0]!.physicalLocation.artifactLocation.uri,
        result.relatedLocations.map((place) => `${place.physicalLocation.artifactLocation.uri}:${place.physicalLocation.region.startLine}`),
      ]),
    ).toEqual([
      [alphaFile, [`${betaFile}:16`]],
      [betaFile, [`${alphaFile}:17`]],
    ]);
  });

  it('sees no conflict in one file alone, nor between namespaces', async () => {
    const dir = workspace({ 'alpha.yaml': alpha, 'beta.yaml': beta.replace('namespace: muster-dev', 'namespace: muster-prod') });
    expect((await runCli(['validate', 'alpha.yaml'], { cwd: dir })).status).toBe(0);
    expect((await runCli(['validate', '.'], { cwd: dir })).status).toBe(0);
  });
});
