// Writes docs/rules.md from the rule catalogue in src/engine/rules/ (through dist/, built first by
// `npm run docs`): every rule's ID, what it checks, its default per context, where the mistake is
// caught in a cluster, how to fix it, and an example from examples/ with what the rule says of it,
// worked out by the engine itself. A test fails when the committed file is stale.
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { load } from 'js-yaml';
// The words the text output ends a finding's line with: the reference quotes findings as `validate` prints them.
import { ACTION_LABELS } from '../dist/cli/output/text.js';

export const RULES_DOC = new URL('../docs/rules.md', import.meta.url);
const EXAMPLES = new URL('../examples/', import.meta.url);

const CAUGHT = {
  'crd-schema':
    "the API server refuses it itself, from the CRD's schema (or, for an unknown field, kubectl's field validation), before any webhook is called: `validate` is where this rule speaks. At admission the webhook does not run it; what it would refuse there is schema drift (see [serve.md](serve.md)).",
  'crd-cel': "the API server refuses it itself, with the CRD's CEL rule and its own words, before any webhook is called: `validate` and `audit` are where this rule speaks.",
  fleet: 'the webhook, when it keeps the fleet view (`serve --fleet`, or `--audit`); `validate` across the files it is given; `audit` across what it lists.',
  secrets: 'the webhook, when it watches Secrets (`serve --watch-secrets`; the chart\'s `fleet.secrets.enabled`); `audit` when it may list Secrets. Never in Git.',
  webhook: 'the webhook: nothing in the API server checks this. `validate` catches it in Git, `audit` in what a cluster already stores.',
};

function where(rule) {
  if (rule.caughtByApiServer) return CAUGHT[rule.caughtByApiServer];
  return CAUGHT[rule.needs ?? 'webhook'];
}

/**
 * Where a rule is enforced in a cluster with the built-in policy: by the webhook, by the
 * ValidatingAdmissionPolicy that `mcpserver-webhook vap` prints, by both, or by neither (a rule
 * that checks manifests only: the API server applies the CRD itself).
 */
function enforcedWhere(rule, compiled) {
  if (rule.manifestOnly) return 'neither: it checks manifests only (`validate`); in the cluster the API server applies the CRD itself.';
  if (compiled.enforced.includes(rule.id)) return 'both: the webhook, and the ValidatingAdmissionPolicy of `mcpserver-webhook vap` (see [operations.md](operations.md)), which the API server applies even while the webhook is down.';
  const { reason } = compiled.notExpressed.find((entry) => entry.rule === rule.id);
  return `webhook: the ValidatingAdmissionPolicy cannot express it, because it ${reason}.`;
}

const enforcedColumn = (rule, compiled) => enforcedWhere(rule, compiled).split(':')[0];

function readExample(path) {
  return readFileSync(new URL(path, EXAMPLES), 'utf8');
}

/** The example files of a rule: a folder of manifests for a rule across objects, else one file. */
function exampleFiles(rule) {
  if (rule.needs === 'fleet') {
    return readdirSync(new URL(`fleet/${rule.id}/`, EXAMPLES))
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => `fleet/${rule.id}/${name}`);
  }
  return [`invalid/${rule.id}.yaml`];
}

/** What the rule says of its example, as `validate` prints it (`path: message [rule]`), in the context where it speaks. */
function exampleFindings(engine, rule, files) {
  const objects = files.map((file) => load(readExample(file)));
  // Where the rule speaks: in Git unless it only records there (audit) or is off.
  const context = rule.defaults.manifest === 'deny' || rule.defaults.manifest === 'warn' ? 'manifest' : 'admission';
  // The CRD's own CEL rules speak where the rules of ours that stand for them are off.
  const mirrorsOff = Object.fromEntries(engine.RULES.filter((other) => other.mirrorsCrdRule).map((other) => [other.id, 'off']));
  const policy = rule.id === 'crd-cel-rule' ? new engine.Policy({ rules: mirrorsOff }, 'docs') : undefined;
  const fleet = new engine.Fleet(
    objects.map((object, id) => ({ id: String(id), object })),
    rule.needs === 'secrets' ? { has: () => false } : undefined,
  );
  const findings = objects.flatMap((object) => {
    const verdict = engine.validate(object, { context, fleet, policy });
    return [...verdict.denials, ...verdict.warnings, ...verdict.audits].filter((finding) => finding.rule === rule.id);
  });
  const lines = findings.map((finding) => `${finding.path}: ${finding.message} [${finding.rule}]${ACTION_LABELS[finding.action]}`);
  return { context, lines, fixes: findings.flatMap((finding) => (finding.fix ? [finding.fix] : [])) };
}

/** What the example's fix does, and whether `validate --fix` applies it or leaves it to a person. */
function fixLine(fixes) {
  const [fix] = fixes;
  if (!fix) return [];
  return [`- **Fix offered** (an RFC 6902 JSON Patch in JSON and SARIF output): ${fix.description}; ${fix.safe ? '`validate --fix` applies it' : 'for a person to confirm: `validate --fix` leaves it alone'}.`];
}

export function rulesDocument(engine) {
  const compiled = engine.compileAdmissionPolicy({ policy: engine.Policy.builtIn() });
  const rows = engine.RULES.map((rule) => `| [\`${rule.id}\`](#${rule.id}) | ${rule.defaults.manifest} | ${rule.defaults.admission} | ${enforcedColumn(rule, compiled)} |`);
  const sections = engine.RULES.map((rule) => {
    const files = exampleFiles(rule);
    const { context, lines, fixes } = exampleFindings(engine, rule, files);
    const aliases = Object.entries(engine.RULE_ALIASES).filter(([, id]) => id === rule.id).map(([alias]) => `\`${alias}\``);
    return [
      `## ${rule.id}`,
      '',
      rule.description,
      '',
      `- **Defaults**: ${rule.defaults.manifest} in Git (\`manifest\`), ${rule.defaults.admission} at admission${rule.manifestOnly ? ' (it checks manifests only)' : ''}.`,
      `- **Caught in a cluster by**: ${where(rule)}`,
      `- **Enforced where**: ${enforcedWhere(rule, compiled)}`,
      `- **How to fix**: ${rule.fix}`,
      ...fixLine(fixes),
      ...(aliases.length ? [`- **Also known as**: ${aliases.join(', ')} (an older ID that policies may still name).`] : []),
      '',
      `Example (${files.map((file) => `[\`examples/${file}\`](../examples/${file})`).join(' and ')}):`,
      '',
      ...files.flatMap((file) => ['```yaml', readExample(file).trimEnd(), '```', '']),
      `What \`validate${context === 'admission' ? ' --context admission' : ''}\` reports${rule.needs === 'secrets' ? ' when the Secret does not exist' : ''}${rule.id === 'crd-cel-rule' ? ' with the rules that stand for the CRD\'s rules off' : ''}:`,
      '',
      '```text',
      ...lines,
      '```',
    ].join('\n');
  });
  return `# Rules

For whoever reads a finding and wants the rule behind it: every rule's ID, what it checks, its
default action in each context, where a cluster catches the mistake, how to fix it, and an
example that fires it. The actions and how a policy changes them are in [policy.md](policy.md),
with what the rules look for (the credential classes of headers and env, ratcheting, schema drift);
which mistakes the API server refuses before any webhook is called is in
[where-mistakes-are-caught.md](where-mistakes-are-caught.md).

<!-- Generated from the rule catalogue in src/engine/rules/ by \`npm run docs\`: do not edit. -->

Enforced where, in a cluster with the built-in policy: by the webhook, by the
ValidatingAdmissionPolicy that \`mcpserver-webhook vap\` prints (the chart's
\`validatingAdmissionPolicy.enabled\`), by both, or by neither where the rule checks manifests only.

| Rule | In Git (\`manifest\`) | At admission | Enforced where |
|---|---|---|---|
${rows.join('\n')}

${sections.join('\n\n')}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const engine = await import('../dist/engine/index.js');
  await writeFile(RULES_DOC, rulesDocument(engine));
}
