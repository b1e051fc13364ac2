import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { schemaFromCrd } from '../../src/engine/crd.js';
import { repositoryFile } from '../fixtures.js';

interface Generator {
  readUpstreamCrd(): Promise<unknown>;
  schemaText(schema: unknown): string;
  generateTypes(schema: unknown): Promise<string>;
}

/** What is derived from the upstream CRD is committed; these fail when it is stale. */
describe('files generated from schemas/upstream/', async () => {
  const generator = (await import(repositoryFile('scripts/generate.mjs').href)) as Generator;
  const schema = schemaFromCrd(await generator.readUpstreamCrd());

  it('schemas/mcpserver.v1alpha1.json is what `npm run generate` makes of the CRD', () => {
    const committed = readFileSync(repositoryFile('schemas/mcpserver.v1alpha1.json'), 'utf8');
    expect(committed, 'run `npm run generate` after changing the CRD or src/engine/crd.ts').toBe(generator.schemaText(schema));
  });

  it('src/engine/mcpserver.generated.ts is what `npm run generate` makes of the schema', async () => {
    const committed = readFileSync(repositoryFile('src/engine/mcpserver.generated.ts'), 'utf8');
    expect(committed, 'run `npm run generate` after changing the schema').toBe(await generator.generateTypes(schema));
  });
});
