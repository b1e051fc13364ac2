import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { judgeStoredObject, storedFleet, STORED_OBJECT_CONTEXT } from '../../src/audit/audit.js';
import { buildPolicyReport, MANAGED_BY_LABEL, objectOutcome, REPORT_SOURCE } from '../../src/audit/policy-report.js';
import { Policy, rulesConcerning } from '../../src/engine/index.js';
import { templateDocuments, templateText } from '../charts/chart-files.js';
import { exampleFiles, readExample } from '../fixtures.js';
import { eventually } from '../server/child-server.js';
import { createObject, endpoint, mcpServerPath } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import { request } from './kube-http.js';

/** What the audit tests share: objects already in the cluster, the chart's RBAC, and the reports the project's code expects. */

/** Writes every example the API server itself accepts into `namespace` (no webhook is registered): what an audit is for. */
export async function createExamples(plane: ControlPlane, namespace: string): Promise<void> {
  const files = [...exampleFiles('.'), ...exampleFiles('invalid').map((file) => `invalid/${file}`)];
  for (const file of files) {
    const object = readExample(file);
    const body = { ...object, metadata: { ...(object.metadata as object), namespace } };
    await request(endpoint(plane), 'POST', mcpServerPath(namespace), { body, query: { fieldValidation: 'Strict' } });
  }
}

/** Writes the examples of `files` into `namespace`; each must be accepted. */
export async function copyExamples(plane: ControlPlane, namespace: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const object = readExample(file);
    await createObject(plane, mcpServerPath(namespace), { ...object, metadata: { ...(object.metadata as object), namespace } });
  }
}

/**
 * The chart's RBAC for the continuous audit (templates/rbac.yaml): its rules as they are, bound to
 * the service account `serviceAccount` of the release namespace, the Lease's Role in that namespace.
 * With `reportWritesOnlyIn`, the account may read PolicyReports everywhere but write them only in
 * those namespaces (a ClusterRole of the write verbs, bound by a RoleBinding in each): the API
 * server refuses its writes anywhere else.
 */
export async function grantChartAuditRbac(
  plane: ControlPlane,
  releaseNamespace: string,
  serviceAccount: string,
  { reportWritesOnlyIn }: { reportWritesOnlyIn?: readonly string[] } = {},
): Promise<void> {
  const subjects = [{ kind: 'ServiceAccount', name: serviceAccount, namespace: releaseNamespace }];
  const create = (collection: string, body: object): Promise<unknown> => createObject(plane, `/apis/rbac.authorization.k8s.io/v1/${collection}`, { apiVersion: 'rbac.authorization.k8s.io/v1', ...body });
  const writeVerbs = new Set(['create', 'update', 'patch', 'delete']);
  for (const document of templateDocuments(templateText('rbac.yaml'))) {
    const kind = String(document.kind);
    const namespaced = kind === 'Role' || kind === 'RoleBinding';
    const metadata = { name: 'mcpserver-webhook-audit', ...(namespaced ? { namespace: releaseNamespace } : {}) };
    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: kind === 'ClusterRoleBinding' ? 'ClusterRole' : 'Role', name: metadata.name };
    let rules = document.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[] | undefined;
    if (kind === 'ClusterRole' && reportWritesOnlyIn) {
      const reports = (rule: { resources: string[] }): boolean => rule.resources.includes('policyreports');
      const writes = rules?.filter(reports).map((rule) => ({ ...rule, verbs: rule.verbs.filter((verb) => writeVerbs.has(verb)) }));
      rules = rules?.map((rule) => (reports(rule) ? { ...rule, verbs: rule.verbs.filter((verb) => !writeVerbs.has(verb)) } : rule));
      const writer = { name: 'mcpserver-webhook-audit-report-writer' };
      await create('clusterroles', { kind, metadata: writer, rules: writes });
      for (const namespace of reportWritesOnlyIn) {
        await create(`namespaces/${namespace}/rolebindings`, { kind: 'RoleBinding', metadata: { ...writer, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: writer.name }, subjects });
      }
    }
    const body = kind === 'ClusterRole' || kind === 'Role' ? { kind, metadata, rules } : { kind, metadata, roleRef, subjects };
    await create(`${namespaced ? `namespaces/${releaseNamespace}/` : ''}${kind.toLowerCase()}s`, body);
  }
}

/** The object at `path` as the administrator reads it; undefined when there is none. */
export async function get(plane: ControlPlane, path: string): Promise<any> {
  const answer = await request(endpoint(plane), 'GET', path);
  return answer.status === 200 ? answer.body : undefined;
}

/** The audit's PolicyReports in a namespace, one per MCPServer. */
export const reportsPath = (namespace: string): string => `/apis/wgpolicyk8s.io/v1alpha2/namespaces/${namespace}/policyreports`;

/** The audit's reports of a namespace as the administrator reads them. */
export async function reportsIn(plane: ControlPlane, namespace: string): Promise<any[]> {
  const answer = await request(endpoint(plane), 'GET', reportsPath(namespace), { query: { labelSelector: `${MANAGED_BY_LABEL}=${REPORT_SOURCE}` } });
  return answer.status === 200 ? ((answer.body as { items: any[] }).items ?? []) : [];
}

/** The stored MCPServers of a namespace, each with the verdict the project's code gives it. */
export async function judged(plane: ControlPlane, namespace: string) {
  const policy = Policy.builtIn();
  const items: any[] = (await get(plane, mcpServerPath(namespace))).items;
  // The other MCPServers of the namespace are in view, as the continuous audit's watch has them.
  return items.map((object) => ({ object, verdict: judgeStoredObject(object, policy, { name: namespace }, storedFleet(items)) }));
}

/**
 * The reports the project's code makes of the stored objects, by the uid of each, with the
 * timestamps of `actual` (the time a verdict last changed is the audit's to know).
 */
export async function expectedReports(plane: ControlPlane, namespace: string, actual: readonly any[]) {
  const policy = Policy.builtIn();
  const since = new Map(actual.map((report) => [report.scope?.uid, report.results?.[0]?.timestamp?.seconds ?? 0]));
  return (await judged(plane, namespace)).map(({ object, verdict }) => {
    const outcome = objectOutcome({ verdict, actions: policy.actions(STORED_OBJECT_CONTEXT, { name: namespace }), concerned: rulesConcerning(object), failedRules: new Set() });
    const { uid, name } = object.metadata;
    return buildPolicyReport({ uid, name, namespace }, outcome, since.get(uid) ?? 0);
  });
}

/** What is compared of a report: what it says and whom it is about, not the API server's own metadata. */
const content = (report: any) => [report.metadata.name, report.metadata.ownerReferences, report.scope, report.summary, report.results];
const byName = (a: any, b: any): number => String(a.metadata.name).localeCompare(String(b.metadata.name));

/**
 * Waits until the namespace's reports say what the project's code says of the stored objects, a
 * report per MCPServer and no other; else shows the difference. Returns the reports.
 */
export async function untilReportsAreCurrent(plane: ControlPlane, namespace: string): Promise<any[]> {
  const current = async (): Promise<{ actual: any[]; expected: unknown[] }> => {
    const actual = (await reportsIn(plane, namespace)).sort(byName);
    const expected = (await expectedReports(plane, namespace, actual)).sort(byName);
    return { actual, expected: expected.map(content) };
  };
  try {
    return await eventually(
      async () => {
        const { actual, expected } = await current();
        return isDeepStrictEqual(actual.map(content), expected) ? actual : undefined;
      },
      30_000,
      250,
    );
  } catch (error) {
    const { actual, expected } = await current();
    expect(actual.map(content), `the PolicyReports of ${namespace}`).toEqual(expected);
    throw error;
  }
}

/** The series of the replica's /metrics, each as written (`name{labels}`) with its value. */
export async function metrics(metricsPort: number | undefined): Promise<Map<string, number>> {
  const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((res) => res.text());
  const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(series.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
}

/** A counter of the replica's /metrics, 0 when the series is not there. */
export async function metric(metricsPort: number | undefined, series: string): Promise<number> {
  return (await metrics(metricsPort)).get(series) ?? 0;
}

/** The sum of the series called `name` whose labels include `labels`, from `metrics()`. */
export function sumOf(series: ReadonlyMap<string, number>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const [key, value] of series) {
    const brace = key.indexOf('{');
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([label, wanted]) => key.includes(`${label}="${wanted}"`))) sum += value;
  }
  return sum;
}
