import { RULES } from '../../engine/index.js';
import type { Context } from '../../engine/index.js';
import type { ObjectResult, Report, ReportedFinding } from '../../report/results.js';
import type { TextEdit } from '../fix.js';

export interface SarifOptions {
  readonly context: Context;
  readonly version: string;
  /** Where docs/rules.md is read: each rule's helpUri points at its section. Absent: no link. */
  readonly rulesUrl?: string | undefined;
  /** The edits of its file that apply a finding's fix, where they can be written as edits. */
  readonly editsOf?: (result: ObjectResult, finding: ReportedFinding) => readonly TextEdit[] | undefined;
}

const LEVELS = { deny: 'error', warn: 'warning', audit: 'note', off: 'none' } as const;

/**
 * SARIF 2.1.0, so code scanning puts each finding on the line of the offending field in the
 * pull request. Audit-only findings are not reported: they are records, not review comments.
 * `rulesUrl` is where docs/rules.md is read (its sections are named by rule ID): each rule's
 * helpUri points at its section, so code scanning links a finding to its rule. A finding with a
 * fix carries it as SARIF `fixes`, the replacements of its file's text.
 */
export function formatSarif(report: Report, { context, version, rulesUrl, editsOf }: SarifOptions): string {
  const ruleIndex = new Map(RULES.map((rule, index) => [rule.id, index]));
  const results = report.results.flatMap((result) => {
    const toResult = (level: 'error' | 'warning') => (finding: ReportedFinding) => ({
      ruleId: finding.rule,
      ...(ruleIndex.has(finding.rule) ? { ruleIndex: ruleIndex.get(finding.rule) } : {}),
      level,
      message: { text: finding.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: toUri(result.file ?? '') },
            region: { startLine: finding.line ?? 1 },
          },
          logicalLocations: [{ fullyQualifiedName: `${result.name ?? ''}/${finding.path}`, kind: 'member' }],
        },
      ],
      ...fixesOf(result, finding, editsOf),
      // The other side of a conflict between two files: code scanning links to it.
      ...(finding.related?.length
        ? {
            relatedLocations: finding.related.map((place, id) => ({
              id,
              ...(place.file === undefined
                ? {}
                : { physicalLocation: { artifactLocation: { uri: toUri(place.file) }, region: { startLine: place.line ?? 1 } } }),
              message: { text: `${place.name ?? ''}: ${place.path}` },
            })),
          }
        : {}),
    });
    return [...result.denials.map(toResult('error')), ...result.warnings.map(toResult('warning'))];
  });

  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'mcpserver-webhook',
            version,
            rules: RULES.map((rule) => ({
              id: rule.id,
              shortDescription: { text: rule.description },
              help: { text: rule.fix },
              ...(rulesUrl === undefined ? {} : { helpUri: `${rulesUrl}#${rule.id}` }),
              defaultConfiguration: { level: LEVELS[rule.defaults[context]] },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: report.errors.length === 0,
            toolExecutionNotifications: report.errors.map((error) => ({
              level: 'error',
              message: { text: error.message },
              ...(error.file
                ? { locations: [{ physicalLocation: { artifactLocation: { uri: toUri(error.file) }, region: { startLine: error.line ?? 1 } } }] }
                : {}),
            })),
          },
        ],
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

/** The finding's fix, as SARIF 2.1.0 `fixes` (one fix, its replacements in the finding's file). */
function fixesOf(result: ObjectResult, finding: ReportedFinding, editsOf: SarifOptions['editsOf']): { fixes?: unknown[] } {
  const edits = finding.fix && editsOf?.(result, finding);
  if (!finding.fix || !edits?.length || result.file === undefined) return {};
  return {
    fixes: [
      {
        description: { text: finding.fix.safe ? finding.fix.description : `${finding.fix.description} (to confirm: validate --fix leaves it alone)` },
        artifactChanges: [
          {
            artifactLocation: { uri: toUri(result.file) },
            replacements: edits.map((edit) => ({ deletedRegion: { charOffset: edit.offset, charLength: edit.length }, insertedContent: { text: edit.text } })),
          },
        ],
      },
    ],
  };
}

/** SARIF wants URI references: forward slashes, each path segment percent-encoded. */
function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}
