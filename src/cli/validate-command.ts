import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTEXTS, Fleet, Policy, validate, type Context, type FieldPath, type Fix, type MCPServerSchema } from '../engine/index.js';
import { applyEditGroups, contentDocuments, fixEdits, type TextEdit } from './fix.js';
import { unifiedDiff } from './output/diff.js';
import { loadCrdFile, schemaFromInputs } from './crd-file.js';
import { loadPolicyFile } from './policy-file.js';
import { collectManifests, emptyManifests, type ParsedManifests } from './manifests.js';
import { EXIT, UsageError, VERSION, oneOf, parseCommandArgs, wantsColor, type CliIO } from './io.js';
import { formatJson } from './output/json.js';
import { formatSarif } from './output/sarif.js';
import { formatErrorsText, formatText } from './output/text.js';
import { displayName, objectIdentity, objectResult, summarize, type ObjectResult, type Report, type ReportedFinding } from '../report/results.js';

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
      --rules-url URL   where docs/rules.md is read, for the SARIF rules' helpUri; default:
                        none (the GitHub Action passes its repository's)
      --fix             apply the safe fixes to the files in place, keeping comments, key order
                        and formatting; print what changed (on standard error), then check again
      --dry-run         with --fix: print the changes as a unified diff, and change nothing
  -h, --help            show this help

Exit status: 0 when nothing is denied, 1 when anything is denied (after --fix: anything left),
2 for a usage error or input that could not be read or parsed, or a folder without manifests.
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
  /** Absent: the SARIF rules carry their help text without a link (a path of this machine helps no one else). */
  readonly rulesUrl: string | undefined;
  readonly fix: boolean;
  readonly dryRun: boolean;
}

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
      fix: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const output = oneOf('--output', OUTPUTS, values.output);
  const context = oneOf('--context', CONTEXTS, values.context);
  if (positionals.length === 0) throw new UsageError('give at least one file or folder to check, or - for standard input');
  const rulesUrl = values['rules-url'];
  if (rulesUrl !== undefined && !URL.canParse(rulesUrl)) throw new UsageError('--rules-url must be an absolute URL, e.g. https://github.com/OWNER/mcpserver-webhook/blob/REF/docs/rules.md');
  const fix = values.fix === true;
  const dryRun = values['dry-run'] === true;
  if (dryRun && !fix) throw new UsageError('--dry-run goes with --fix: it shows what --fix would change');
  if (fix && !dryRun && positionals.includes('-')) throw new UsageError('--fix writes the files it fixes, and standard input is no file: give files or folders, or add --dry-run');
  return { paths: positionals, output, context, policyFile: values.policy, crdFile: values.crd, rulesUrl, fix, dryRun };
}

export async function runValidate(args: string[], io: CliIO): Promise<number> {
  const parsed = parseValidateArguments(args);
  if (parsed === 'help') {
    io.stdout.write(VALIDATE_USAGE);
    return EXIT.ok;
  }
  const policy = parsed.policyFile ? await loadPolicyFile(parsed.policyFile) : Policy.builtIn();
  const explicitSchema = parsed.crdFile ? await loadCrdFile(parsed.crdFile) : undefined;
  let checked = await check(parsed, io, policy, explicitSchema);
  if (parsed.fix) {
    const changes = planFixes(checked, parsed.dryRun);
    io.stderr.write(changes.flatMap((change) => change.notes).join(''));
    if (parsed.dryRun) {
      io.stdout.write(changes.map((change) => unifiedDiff(change.file, change.before, change.after)).join(''));
      return exitStatus(checked.report);
    }
    const changed = changes.filter((change) => change.after !== change.before);
    for (const change of changed) await writeFile(change.file, change.after);
    // Judged again as the files now are: the report and the exit status say what is left.
    if (changed.length > 0) checked = await check(parsed, io, policy, explicitSchema);
  }
  writeReport(checked, parsed, io);
  return exitStatus(checked.report);
}

function exitStatus(report: Report): number {
  if (report.errors.length > 0) return EXIT.usage;
  return report.summary.denied > 0 ? EXIT.denied : EXIT.ok;
}

/** What one reading of the inputs found: the report, and the text of each file for the fixes. */
interface Checked {
  readonly report: Report;
  readonly texts: ReadonlyMap<string, string>;
}

async function check(parsed: ValidateArguments, io: CliIO, policy: Policy, explicitSchema: MCPServerSchema | undefined): Promise<Checked> {
  const manifests = emptyManifests();
  const texts = new Map<string, string>();
  const files = await readInputs(parsed.paths, io, manifests, texts);
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
  return { report, texts };
}

/** A file as --fix leaves it, and a line per fix: what was fixed, or why not. */
interface FileChange {
  readonly file: string;
  readonly before: string;
  readonly after: string;
  readonly notes: string[];
}

/** The safe fixes of every finding, file by file, as edits of the text each file holds. */
function planFixes({ report, texts }: Checked, dryRun: boolean): FileChange[] {
  const byFile = new Map<string, { result: ObjectResult; finding: ReportedFinding; fix: Fix }[]>();
  for (const result of report.results) {
    for (const finding of [...result.denials, ...result.warnings, ...result.audits]) {
      if (!finding.fix?.safe || result.file === undefined) continue;
      const fixes = byFile.get(result.file) ?? [];
      fixes.push({ result, finding, fix: finding.fix });
      byFile.set(result.file, fixes);
    }
  }
  return [...byFile].flatMap(([file, fixes]): FileChange[] => {
    const before = texts.get(file) ?? '';
    const documents = contentDocuments(before);
    const edits = fixes.map(({ result, fix }) => (documents && result.index !== undefined ? fixEdits(before, documents, { index: result.index, ...(result.item === undefined ? {} : { item: result.item }), patch: fix.patch }) : undefined));
    const { text: after, applied } = applyEditGroups(before, edits.map((group) => group ?? []));
    const done = dryRun ? 'would fix' : 'fixed';
    const notes = fixes
      .map(({ result, finding, fix }, index) => ({
        line: finding.line ?? 1,
        text: `${file}:${finding.line ?? 1}: ${displayName(result)}: ${finding.path}: ${edits[index] !== undefined && applied[index] ? done : 'not fixed, as the file writes it in a form --fix does not edit'}: ${fix.description} [${finding.rule}]\n`,
      }))
      .sort((a, b) => a.line - b.line)
      .map(({ text }) => text);
    return [{ file, before, after, notes }];
  });
}

/** For SARIF: the edits of the file that apply a finding's fix (safe or to confirm), where they can be written. */
function editsFinder(texts: ReadonlyMap<string, string>): (result: ObjectResult, finding: ReportedFinding) => TextEdit[] | undefined {
  const documentsOf = new Map<string, ReturnType<typeof contentDocuments>>();
  return (result, finding) => {
    const text = result.file === undefined ? undefined : texts.get(result.file);
    if (text === undefined || result.file === undefined || result.index === undefined || !finding.fix) return undefined;
    if (!documentsOf.has(result.file)) documentsOf.set(result.file, contentDocuments(text));
    const documents = documentsOf.get(result.file);
    return documents && fixEdits(text, documents, { index: result.index, ...(result.item === undefined ? {} : { item: result.item }), patch: finding.fix.patch });
  };
}

function writeReport({ report, texts }: Checked, { output, context, rulesUrl }: ValidateArguments, io: CliIO): void {
  switch (output) {
    case 'json':
      io.stdout.write(formatJson(report));
      return;
    case 'sarif':
      io.stderr.write(formatErrorsText(report));
      io.stdout.write(formatSarif(report, { context, version: VERSION, rulesUrl, editsOf: editsFinder(texts) }));
      return;
    case 'text':
      io.stderr.write(formatErrorsText(report));
      io.stdout.write(formatText(report, wantsColor(io)));
  }
}

/** Reads every input into `manifests`; returns how many files were read. */
async function readInputs(paths: readonly string[], io: CliIO, manifests: ParsedManifests, texts: Map<string, string>): Promise<number> {
  let files = 0;
  const seen = new Set<string>();
  const read = async (file: string, text: Promise<string>): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    try {
      const content = await text;
      texts.set(file, content);
      collectManifests(file, content, manifests);
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
    // A folder without manifests is most likely the wrong folder: said, rather than a silent pass.
    if (found.length === 0) manifests.errors.push({ file: path, message: 'holds no .yaml, .yml or .json file to check' });
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
