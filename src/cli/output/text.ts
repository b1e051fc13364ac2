import { displayName, type ObjectResult, type RelatedPlace, type Report, type ReportedFinding } from '../../report/results.js';

const STYLES = { red: '\u001b[31m', yellow: '\u001b[33m', bold: '\u001b[1m', dim: '\u001b[2m', reset: '\u001b[0m' };
type Style = keyof typeof STYLES;

/**
 * One line per finding, `file:line: name: path: message [rule]`, as compilers print them so
 * editors and CI logs link to the line. Warnings end in `(warning)`. Audit-only findings are
 * left to the JSON output.
 */
export function formatText(report: Report, color: boolean): string {
  const paint = (style: Style, text: string): string => (color ? `${STYLES[style]}${text}${STYLES.reset}` : text);
  const lines: string[] = [];
  for (const result of report.results) {
    for (const finding of result.denials) lines.push(findingLine(result, finding, paint, 'red', ''));
    for (const finding of result.warnings) lines.push(findingLine(result, finding, paint, 'yellow', ` ${paint('yellow', '(warning)')}`));
  }
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function findingLine(
  result: ObjectResult,
  finding: ReportedFinding,
  paint: (style: Style, text: string) => string,
  style: Style,
  suffix: string,
): string {
  const location = result.file === undefined ? '' : `${result.file}:${finding.line ?? 1}: `;
  // The message is whole (`path: message`): the path is not printed twice.
  const related = finding.related?.length ? ` ${paint('dim', `(see ${finding.related.map(relatedLocation).join(', ')})`)}` : '';
  return `${paint(style, location)}${paint('bold', displayName(result))}: ${finding.message} ${paint('dim', `[${finding.rule}]`)}${suffix}${related}`;
}

/** The other side of a conflict: its file and line, or its name in the cluster. */
function relatedLocation(place: RelatedPlace): string {
  return place.file === undefined ? `${displayName(place)} ${place.path}` : `${place.file}:${place.line ?? 1}`;
}

export function formatErrorsText(report: Report): string {
  return report.errors.map((error) => `${error.file ?? ''}${error.line ? `:${error.line}` : ''}: ${error.message}\n`).join('');
}

function summaryLine({ summary }: Report): string {
  const parts = [
    `${summary.checked} MCPServer${summary.checked === 1 ? '' : 's'} checked`,
    summary.files === undefined ? '' : ` in ${summary.files} file${summary.files === 1 ? '' : 's'}`,
    `: ${summary.denied} denied, ${summary.allowed} allowed`,
    summary.withWarnings ? ` (${summary.withWarnings} with warnings)` : '',
    summary.skipped ? `; ${summary.skipped} other document${summary.skipped === 1 ? '' : 's'} skipped` : '',
    summary.errors ? `; ${summary.errors} input error${summary.errors === 1 ? '' : 's'}` : '',
    summary.schema && summary.schema !== 'built-in' ? `; checked against the MCPServer CRD in ${summary.schema}` : '',
    summary.unchecked?.length ? `; not checked, for want of what they look at: ${summary.unchecked.join(', ')}` : '',
  ];
  return parts.join('');
}
