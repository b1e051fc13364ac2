// Regenerates what is derived from the upstream MCPServer CRD in schemas/upstream/:
//   schemas/mcpserver.v1alpha1.json   the JSON Schema the engine checks against (src/engine/crd.ts builds it)
//   src/engine/mcpserver.generated.ts the TypeScript types of that schema
// so the CRD, the schema and the types never disagree; the rule IDs of schemas/policy.json are
// the catalogue's (and its aliases), so editors complete them; and the chart's values schema
// takes that policy schema, so a broken policy fails `helm install`. `npm run
// generate` builds first; a test fails when any of them is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { load } from 'js-yaml';
import { compile } from 'json-schema-to-typescript';

export const CRD_FILE = new URL('../schemas/upstream/muster.giantswarm.io_mcpservers.yaml', import.meta.url);
export const SCHEMA_FILE = new URL('../schemas/mcpserver.v1alpha1.json', import.meta.url);
export const TYPES_FILE = new URL('../src/engine/mcpserver.generated.ts', import.meta.url);
export const POLICY_SCHEMA_FILE = new URL('../schemas/policy.json', import.meta.url);
export const CHART_VALUES_SCHEMA_FILE = new URL('../charts/mcpserver-webhook/values.schema.json', import.meta.url);

export async function readUpstreamCrd() {
  return load(await readFile(CRD_FILE, 'utf8'));
}

export function schemaText(schema) {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export async function generateTypes(schema) {
  return compile(schema, 'MCPServer', {
    additionalProperties: false,
    bannerComment: '// Generated from schemas/mcpserver.v1alpha1.json by `npm run generate`. Do not edit.',
    style: { singleQuote: true },
  });
}

/** schemas/policy.json with the rule IDs of the catalogue, then its aliases. */
export async function policySchema(ruleIds, aliases) {
  const policy = JSON.parse(await readFile(POLICY_SCHEMA_FILE, 'utf8'));
  policy.definitions.ruleId.enum = [...ruleIds, ...aliases];
  return policy;
}

/** The chart's values schema with `policy` checked by the policy schema. */
export async function chartValuesSchema(policy) {
  const values = JSON.parse(await readFile(CHART_VALUES_SCHEMA_FILE, 'utf8'));
  values.properties.policy.properties = policy.properties;
  values.definitions = policy.definitions;
  return values;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { schemaFromCrd } = await import('../dist/engine/crd.js');
  const { RULE_IDS, RULE_ALIASES } = await import('../dist/engine/rules/index.js');
  const schema = schemaFromCrd(await readUpstreamCrd());
  await writeFile(SCHEMA_FILE, schemaText(schema));
  await writeFile(TYPES_FILE, await generateTypes(schema));
  const policy = await policySchema(RULE_IDS, Object.keys(RULE_ALIASES));
  await writeFile(POLICY_SCHEMA_FILE, schemaText(policy));
  await writeFile(CHART_VALUES_SCHEMA_FILE, schemaText(await chartValuesSchema(policy)));
}
