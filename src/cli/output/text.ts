import { RULES, type Action } from '../../engine/index.js';
import { displayName, type ObjectResult, type RelatedPlace, type Report, type ReportedFinding } from '../../report/results.js';

/**
 * How a finding's line ends, by what the policy made of it: a denial as a compiler prints an
 * error, bare; a warning marked. docs/rules.md quotes findings with these same words.
 */
export const ACTION_LABELS: Readonly<Record<Exclude<Action, 'off' | 'audit'>, string>> = { deny: '', warn: ' (warning)' };

const STYLES = { red: '\u001b[31m', yellow: '\u001b[33m', bold: '\u001b[1m', dim: '\u001b[2m', reset: '\u001b[0m' };
type Style = keyof typeof STYLES;

/**
 * One line per finding, `file:line: name: path: message [rule]`, as compilers print them so
 * editors and CI logs link to the line: by file, then by line (a denial before a warning on the
 * same line). Warnings end in `(warning)`. Audit-only findings are left to the JSON output; the
 * summary counts them and says where they are.
 */
export function formatText(report: Report, color: boolean): string {
  const paint = (style: Style, text: string): string => (color ? `${STYLES[style]}${text}${STYLES.reset}` : text);
  const lines: string[] = [];
  for (const results of byFile(report.results)) {
    const findings = results.flatMap((result) => [
      ...result.denials.map((finding) => ({ result, finding, warning: false })),
      ...result.warnings.map((finding) => ({ result, finding, warning: true })),
    ]);
    findings.sort((a, b) => (a.finding.line ?? 0) - (b.finding.line ?? 0));
    for (const { result, finding, warning } of findings) {
      lines.push(warning ? findingLine(result, finding, paint, 'yellow', paint('yellow', ACTION_LABELS.warn)) : findingLine(result, finding, paint, 'red', ACTION_LABELS.deny));
    }
  }
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

/** The results in runs of the same file, in the order the files were read. */
function byFile(results: readonly ObjectResult[]): ObjectResult[][] {
  const runs: ObjectResult[][] = [];
  for (const result of results) {
    const last = runs.at(-1);
    if (last && last[0]?.file === result.file) last.push(result);
    else runs.push([result]);
  }
  return runs;
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

function summaryLine({ summary, results }: Report): string {
  const audits = results.reduce((count, result) => count + result.audits.length, 0);
  const parts = [
    `${summary.checked} MCPServer${summary.checked === 1 ? '' : 's'} checked`,
    summary.files === undefined ? '' : ` in ${summary.files} file${summary.files === 1 ? '' : 's'}`,
    `: ${summary.denied} denied, ${summary.allowed} allowed`,
    summary.withWarnings ? ` (${summary.withWarnings} with warnings)` : '',
    summary.skipped ? `; ${summary.skipped} other document${summary.skipped === 1 ? '' : 's'} skipped` : '',
    summary.errors ? `; ${summary.errors} input error${summary.errors === 1 ? '' : 's'}` : '',
    summary.schema && summary.schema !== 'built-in' ? `; checked against the MCPServer CRD in ${summary.schema}` : '',
    audits ? `; ${audits} audit-only finding${audits === 1 ? '' : 's'}, recorded but not shown here: --output json lists ${audits === 1 ? 'it' : 'them'}` : '',
    ...uncheckedParts(summary.unchecked ?? []),
  ];
  return parts.join('');
}

/** What the rules that did not run would need, and where it is given. */
const NEEDS = {
  fleet: 'the other MCPServers (serve --fleet keeps them in view)',
  secrets: 'the Secrets (audit --secrets lists them; serve --watch-secrets watches them; files hold none)',
} as const;

function uncheckedParts(unchecked: readonly string[]): string[] {
  return (['fleet', 'secrets'] as const).flatMap((need) => {
    const rules = unchecked.filter((id) => RULES.find((rule) => rule.id === id)?.needs === need);
    return rules.length ? [`; not checked: ${rules.join(', ')}, for want of ${NEEDS[need]}`] : [];
  });
}
