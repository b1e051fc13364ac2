import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repositoryFile } from '../fixtures.js';

describe('src/engine/mcpserver.generated.ts', () => {
  it('is what `npm run generate:types` makes of the current schema', async () => {
    const { generateTypes } = (await import(repositoryFile('scripts/generate-types.mjs').href)) as {
      generateTypes(): Promise<string>;
    };
    const committed = readFileSync(repositoryFile('src/engine/mcpserver.generated.ts'), 'utf8');
    expect(committed, 'run `npm run generate:types` after changing the schema').toBe(await generateTypes());
  });
});
