import type { Report } from '../../report/results.js';

/** The documented contract: see docs/validate.md, "JSON output". */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
