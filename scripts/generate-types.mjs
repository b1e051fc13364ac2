// Regenerates src/engine/mcpserver.generated.ts from schemas/mcpserver.v1alpha1.json, so the
// TypeScript types and the JSON Schema never disagree. A test fails when the file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { compile } from 'json-schema-to-typescript';

export async function generateTypes() {
  const schema = JSON.parse(await readFile(new URL('../schemas/mcpserver.v1alpha1.json', import.meta.url), 'utf8'));
  return compile(schema, 'MCPServer', {
    additionalProperties: false,
    bannerComment: '// Generated from schemas/mcpserver.v1alpha1.json by `npm run generate:types`. Do not edit.',
    style: { singleQuote: true },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(new URL('../src/engine/mcpserver.generated.ts', import.meta.url), await generateTypes());
}
