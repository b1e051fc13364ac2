import { RULES } from '../../engine/index.js';
import type { Context } from '../../engine/index.js';
import type { Report, ReportedFinding } from '../../report/results.js';

const LEVELS = { deny: 'error', warn: 'warning', audit: 'note', off: 'none' } as const;

/**
 * SARIF 2.1.0, so code scanning puts each finding on the line of the offending field in the
 * pull request. Audit-only findings are not reported: they are records, not review comments.
 * `rulesUrl` is where docs/rules.md is read (its sections are named by rule ID): each rule's
 * helpUri points at its section, so code scanning links a finding to its rule.
 */
export function formatSarif(report: Report, context: Context, version: string, rulesUrl: string): string {
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
              helpUri: `${rulesUrl}#${rule.id}`,
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

/** SARIF wants URI references: forward slashes, each path segment percent-encoded. */
function toUri(file: string): string {
  return file.split(/[\\/]/).map(encodeURIComponent).join('/');
}
