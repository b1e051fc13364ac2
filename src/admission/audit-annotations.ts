import type { Finding, Verdict } from '../engine/index.js';

/**
 * Annotations the API server adds to its own audit event for this request, under the key
 * `<webhook name>/<key>`. Keys are therefore plain DNS-label-like names (a test checks they
 * form a valid qualified name); values name rules only, never a field's value.
 */
export function auditAnnotations(verdict: Verdict): Record<string, string> {
  const annotations: Record<string, string> = { decision: verdict.allowed ? 'allowed' : 'denied' };
  const add = (key: string, findings: readonly Finding[]): void => {
    if (findings.length > 0) annotations[key] = [...new Set(findings.map((finding) => finding.rule))].sort().join(',');
  };
  add('denied-by', verdict.denials);
  add('warned-by', verdict.warnings);
  add('audited-by', verdict.audits);
  return annotations;
}
