import { CustomObjectsApi } from '@kubernetes/client-node';
import { isPlainObject } from '../engine/schema.js';
import { ClusterError, isMissingObject, listCustomObjects, POLICY_REPORTS, toClusterError, type ClusterConnection, type ClusterRequest } from './cluster.js';
import { buildPolicyReport, MANAGED_BY_LABEL, REPORT_NAME, sameReportContent, type UnstampedResult } from './policy-report.js';

export const CRD_MISSING = Symbol('the PolicyReport CRD is not installed');
const OBJECT_MISSING = Symbol('no such object');

/**
 * What became of a namespace's report: `crd-missing` when the API server does not serve
 * PolicyReports at all, `not-leader` when leadership was lost before the write.
 */
export type ReportOutcome = 'created' | 'updated' | 'deleted' | 'unchanged' | 'crd-missing' | 'not-leader';

/**
 * Keeps each namespace's PolicyReport in line with the audit's results: reads it, writes only
 * when its content differs (so an unchanged report keeps its resourceVersion), with the
 * resourceVersion it read (a concurrent change is a conflict, retried by the caller), and
 * deletes it when the namespace has no MCPServers left. Fails with a ClusterError.
 */
export class PolicyReportWriter {
  private readonly api: CustomObjectsApi;

  constructor(
    private readonly connection: ClusterConnection,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.api = connection.config.makeApiClient(CustomObjectsApi);
  }

  /** `mayWrite` is asked right before a write: a replica that lost leadership writes nothing more. */
  async sync(namespace: string, results: readonly UnstampedResult[], mayWrite: () => boolean): Promise<ReportOutcome> {
    const { group, version, plural } = POLICY_REPORTS;
    const at = { group, version, plural, namespace, name: REPORT_NAME };
    const read: unknown = await this.send('get', namespace, () => this.api.getNamespacedCustomObject(at));
    if (read === CRD_MISSING) return 'crd-missing';
    const existing = read === OBJECT_MISSING ? undefined : read;

    if (results.length === 0) {
      // A report of the same name that is not ours is left alone.
      if (existing === undefined || labelsOf(existing)[MANAGED_BY_LABEL] !== REPORT_NAME) return 'unchanged';
      if (!mayWrite()) return 'not-leader';
      // Already gone (OBJECT_MISSING) is as good as deleted.
      return (await this.send('delete', namespace, () => this.api.deleteNamespacedCustomObject(at))) === CRD_MISSING ? 'crd-missing' : 'deleted';
    }

    const desired = buildPolicyReport(namespace, results, existing, this.now());
    if (existing !== undefined && sameReportContent(existing, desired)) return 'unchanged';
    if (!mayWrite()) return 'not-leader';
    // Labels others put on the report stay; the resourceVersion read makes a concurrent change a conflict.
    const metadata = existing === undefined ? desired.metadata : { ...desired.metadata, labels: { ...labelsOf(existing), ...desired.metadata.labels }, resourceVersion: resourceVersionOf(existing) };
    const written =
      existing === undefined
        ? await this.send('create', namespace, () => this.api.createNamespacedCustomObject({ group, version, plural, namespace, body: desired }))
        : await this.send('update', namespace, () => this.api.replaceNamespacedCustomObject({ ...at, body: { ...desired, metadata } }));
    if (written === CRD_MISSING) return 'crd-missing';
    if (written === OBJECT_MISSING) {
      // The report was deleted since it was read, or the namespace is going away: try again later.
      throw new ClusterError('conflict', `the PolicyReport ${namespace}/${REPORT_NAME} or its namespace disappeared while it was being written`);
    }
    return existing === undefined ? 'created' : 'updated';
  }

  /** The namespaces that hold a report of ours, to find those left behind while no replica was leading. */
  async namespacesWithReports(): Promise<string[] | typeof CRD_MISSING> {
    try {
      const listed = await listCustomObjects(this.connection, POLICY_REPORTS, { labelSelector: `${MANAGED_BY_LABEL}=${REPORT_NAME}` });
      return listed.items.flatMap((report) => {
        const metadata = isPlainObject(report) && isPlainObject(report.metadata) ? report.metadata : {};
        return typeof metadata.namespace === 'string' ? [metadata.namespace] : [];
      });
    } catch (error) {
      const problem = toClusterError(error, { verb: 'list', resource: POLICY_REPORTS }, this.connection);
      if (problem.kind === 'not-found') return CRD_MISSING;
      throw problem;
    }
  }

  /**
   * One request. A 404 that names the object is OBJECT_MISSING; a 404 that names nothing means
   * the PolicyReport CRD is not installed (CRD_MISSING). Anything else fails with a ClusterError.
   */
  private async send<T>(verb: ClusterRequest['verb'], namespace: string, request: () => Promise<T>): Promise<T | typeof OBJECT_MISSING | typeof CRD_MISSING> {
    try {
      return await request();
    } catch (error) {
      if (isMissingObject(error)) return OBJECT_MISSING;
      const problem = toClusterError(error, { verb, resource: POLICY_REPORTS, namespace }, this.connection);
      if (problem.kind === 'not-found') return CRD_MISSING;
      throw problem;
    }
  }
}



function labelsOf(report: unknown): Record<string, string> {
  const metadata = isPlainObject(report) && isPlainObject(report.metadata) ? report.metadata : {};
  return isPlainObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
}

function resourceVersionOf(report: unknown): string | undefined {
  const metadata = isPlainObject(report) && isPlainObject(report.metadata) ? report.metadata : {};
  return typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
}
