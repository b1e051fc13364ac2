import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTEXTS, Policy, validate, type Context, type FieldPath, Fleet } from '../engine/index.js';
import { loadCrdFile, schemaFromInputs } from './crd-file.js';
import { loadPolicyFile } from './policy-file.js';
import { collectManifests, emptyManifests, type ParsedManifests } from './manifests.js';
import { EXIT, UsageError, VERSION, oneOf, parseCommandArgs, wantsColor, type CliIO } from './io.js';
import { formatJson } from './output/json.js';
import { formatSarif } from './output/sarif.js';
import { formatErrorsText, formatText } from './output/text.js';
import { objectIdentity, objectResult, summarize, type ObjectResult, type Report } from '../report/results.js';

export const VALIDATE_USAGE = `Usage: mcpserver-webhook validate [options] PATH...

Checks MCPServer manifests offline, the way the webhook would judge them. PATH is a file, a
folder (searched recursively for .yaml, .yml and .json files) or - for standard input. Files
may hold many YAML documents; documents that are not MCPServers are skipped and counted, and
the members of a kind: List are checked one by one. Fields, types, enums, patterns and limits
come from the MCPServer CRD: the bundled upstream one, the one given with --crd, or a
CustomResourceDefinition for mcpservers.muster.giantswarm.io among the inputs.

Options:
  -o, --output FORMAT   text (default), json or sarif
      --context NAME    manifest (default: files in Git) or admission (as at kubectl apply)
      --policy FILE     policy file (YAML or JSON); default: the built-in policy
      --crd FILE        the MCPServer CRD the cluster runs (YAML or JSON); default: one among
                        the inputs, else the bundled upstream CRD
      --rules-url URL   where docs/rules.md is read, for the SARIF rules' helpUri; default: the
                        file installed with this command (the GitHub Action passes its repository's)
  -h, --help            show this help

Exit status: 0 when nothing is denied, 1 when anything is denied, 2 for a usage error or
input that could not be read or parsed.
`;

const OUTPUTS = ['text', 'json', 'sarif'] as const;
type Output = (typeof OUTPUTS)[number];
const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

interface ValidateArguments {
  readonly paths: string[];
  readonly output: Output;
  readonly context: Context;
  readonly policyFile: string | undefined;
  readonly crdFile: string | undefined;
  readonly rulesUrl: string;
}

/** The rule reference installed with the command: an absolute URI, as SARIF's helpUri must be. */
const INSTALLED_RULES_DOC = new URL('../../docs/rules.md', import.meta.url).href;

function parseValidateArguments(args: string[]): ValidateArguments | 'help' {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o', default: 'text' },
      context: { type: 'string', default: 'manifest' },
      policy: { type: 'string' },
      crd: { type: 'string' },
      'rules-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const output = oneOf('--output', OUTPUTS, values.output);
  const context = oneOf('--context', CONTEXTS, values.context);
  if (positionals.length === 0) throw new UsageError('give at least one file or folder to check, or - for standard input');
  const rulesUrl = values['rules-url'] ?? INSTALLED_RULES_DOC;
  if (!URL.canParse(rulesUrl)) throw new UsageError('--rules-url must be an absolute URL, e.g. https://github.com/OWNER/mcpserver-webhook/blob/REF/docs/rules.md');
  return { paths: positionals, output, context, policyFile: values.policy, crdFile: values.crd, rulesUrl };
}

export async function runValidate(args: string[], io: CliIO): Promise<number> {
  const parsed = parseValidateArguments(args);
  if (parsed === 'help') {
    io.stdout.write(VALIDATE_USAGE);
    return EXIT.ok;
  }
  const policy = parsed.policyFile ? await loadPolicyFile(parsed.policyFile) : Policy.builtIn();

  const explicitSchema = parsed.crdFile ? await loadCrdFile(parsed.crdFile) : undefined;

  const manifests = emptyManifests();
  const files = await readInputs(parsed.paths, io, manifests);
  const schema = explicitSchema ?? schemaFromInputs(manifests.crds);
  // Every MCPServer among the inputs is in view of the others: a repository is checked as a whole.
  const fleet = new Fleet(manifests.objects.map((manifest, id) => ({ id: String(id), object: manifest.object })));
  const memberOf = (id: string) => {
    const manifest = manifests.objects[Number(id)];
    return manifest && { identity: { file: manifest.file, ...objectIdentity(manifest.object) }, lineOf: (field: FieldPath) => manifest.lineOf(field) };
  };
  const unchecked: string[] = [];
  const results = manifests.objects.map((manifest): ObjectResult => {
    const { name, namespace } = objectIdentity(manifest.object);
    const labels = namespace === null ? undefined : manifests.namespaceLabels.get(namespace);
    const verdict = validate(manifest.object, {
      context: parsed.context,
      policy,
      schema,
      fleet,
      ...(namespace === null ? {} : { namespace: { name: namespace, ...(labels ? { labels } : {}) } }),
    });
    unchecked.push(...verdict.unchecked);
    return objectResult(
      { file: manifest.file, index: manifest.index, ...(manifest.item === undefined ? {} : { item: manifest.item }), name, namespace },
      verdict,
      { lineOf: (finding) => manifest.lineOf(finding.field), memberOf },
    );
  });

  const report: Report = {
    results,
    errors: manifests.errors,
    summary: summarize(results, { files, skipped: manifests.skipped, errors: manifests.errors.length, schema: schema.source, unchecked }),
  };
  writeReport(report, parsed, io);
  if (report.errors.length > 0) return EXIT.usage;
  return report.summary.denied > 0 ? EXIT.denied : EXIT.ok;
}

function writeReport(report: Report, { output, context, rulesUrl }: ValidateArguments, io: CliIO): void {
  switch (output) {
    case 'json':
      io.stdout.write(formatJson(report));
      return;
    case 'sarif':
      io.stderr.write(formatErrorsText(report));
      io.stdout.write(formatSarif(report, context, VERSION, rulesUrl));
      return;
    case 'text':
      io.stderr.write(formatErrorsText(report));
      io.stdout.write(formatText(report, wantsColor(io)));
  }
}

/** Reads every input into `manifests`; returns how many files were read. */
async function readInputs(paths: readonly string[], io: CliIO, manifests: ParsedManifests): Promise<number> {
  let files = 0;
  const seen = new Set<string>();
  const read = async (file: string, text: Promise<string>): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    try {
      collectManifests(file, await text, manifests);
      files++;
    } catch (error) {
      manifests.errors.push({ file, message: `cannot read: ${describeFsError(error)}` });
    }
  };
  for (const path of paths) {
    if (path === '-') {
      await read('<stdin>', readStream(io.stdin));
      continue;
    }
    let found: string[];
    try {
      found = (await stat(path)).isDirectory() ? await manifestFilesIn(path) : [path];
    } catch (error) {
      manifests.errors.push({ file: path, message: `cannot read: ${describeFsError(error)}` });
      continue;
    }
    for (const file of found) await read(file, readFile(file, 'utf8'));
  }
  return files;
}

/** YAML and JSON files under a folder, in a stable order; hidden folders and node_modules are passed over. */
async function manifestFilesIn(folder: string): Promise<string[]> {
  const entries = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') files.push(...(await manifestFilesIn(path)));
    } else if (MANIFEST_EXTENSIONS.test(entry.name)) {
      files.push(path);
    }
  }
  return files;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  return (error as Error).message;
}
