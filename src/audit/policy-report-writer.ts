import { objectMetadata } from '../engine/index.js';
import { isPlainObject } from '../engine/schema.js';
import { ApiClient } from '../cluster/api-client.js';
import {
  ClusterError,
  isMissingObject,
  listObjects,
  namespacedPath,
  POLICY_REPORTS,
  toClusterError,
  type ClusterConnection,
  type ClusterRequest,
} from '../cluster/connection.js';
import { MANAGED_BY_LABEL, REPORT_SOURCE, RESULTS_HASH_ANNOTATION, type PolicyReport } from './policy-report.js';

export const CRD_MISSING = Symbol('the PolicyReport CRD is not installed');
const OBJECT_MISSING = Symbol('no such object');

/** A report of ours as the API server holds it, from its metadata. */
export interface StoredReport {
  readonly namespace: string;
  readonly name: string;
  /** The results hash it was written with; undefined for a report written otherwise. */
  readonly hash: string | undefined;
  readonly resourceVersion: string | undefined;
}

/**
 * Writes the audit's PolicyReports. It never reads a report's content: which reports exist, and
 * what they say, is known from their metadata (a list of PartialObjectMetadata, with the results
 * hash in an annotation), so that a new leader of a fleet of thousands reads little and writes
 * only what changed. An update carries the resourceVersion last seen (a custom resource cannot be
 * updated without one); a conflict reads it afresh and writes once more. Fails with a ClusterError.
 */
export class PolicyReportWriter {
  private readonly api: ApiClient;

  constructor(private readonly connection: ClusterConnection) {
    this.api = new ApiClient(connection);
  }

  /** Every report of ours in the cluster, page by page, metadata only. */
  async list(): Promise<StoredReport[] | typeof CRD_MISSING> {
    try {
      const listed = await listObjects(this.connection, POLICY_REPORTS, { labelSelector: `${MANAGED_BY_LABEL}=${REPORT_SOURCE}`, metadataOnly: true, keep: storedReport });
      return listed.items as StoredReport[];
    } catch (error) {
      const problem = toClusterError(error, { verb: 'list', resource: POLICY_REPORTS }, this.connection);
      if (problem.kind === 'not-found') return CRD_MISSING;
      throw problem;
    }
  }

  /**
   * Creates the report, or replaces the one `stored` says is there; returns the resourceVersion it
   * is stored at (the rest of its metadata is what the caller wrote).
   */
  async put(report: PolicyReport, stored: StoredReport | undefined): Promise<{ readonly resourceVersion: string | undefined } | typeof CRD_MISSING> {
    const { namespace, name } = report.metadata;
    const collection = namespacedPath(POLICY_REPORTS, namespace);
    const path = namespacedPath(POLICY_REPORTS, namespace, name);
    const create = () => this.send('create', namespace, () => this.api.create(collection, report));
    const replace = (resourceVersion: string | undefined) =>
      this.send('update', namespace, () => this.api.replace(path, { ...report, metadata: { ...report.metadata, resourceVersion } }));
    let written: unknown = stored ? await replace(stored.resourceVersion) : await create();
    // Deleted since it was seen (by someone, or by the garbage collector): created anew.
    if (written === OBJECT_MISSING) written = await create();
    if (written === CONFLICT) {
      // Changed since it was seen, or there already when thought missing: read it, write once more.
      const current = await this.send('get', namespace, () => this.api.get(path));
      written = current === OBJECT_MISSING ? OBJECT_MISSING : current === CRD_MISSING ? CRD_MISSING : await replace(storedReport(current).resourceVersion);
    }
    if (written === CRD_MISSING) return CRD_MISSING;
    if (written === OBJECT_MISSING || written === CONFLICT) {
      throw new ClusterError('conflict', `the PolicyReport ${namespace}/${name} changed, or went, while it was being written`);
    }
    return { resourceVersion: objectMetadata(written).resourceVersion };
  }

  /** Deletes a report; one already gone is as good as deleted. */
  async remove(namespace: string, name: string): Promise<'deleted' | typeof CRD_MISSING> {
    const outcome = await this.send('delete', namespace, () => this.api.delete(namespacedPath(POLICY_REPORTS, namespace, name)));
    return outcome === CRD_MISSING ? CRD_MISSING : 'deleted';
  }

  /**
   * One request. A 404 that names the object is OBJECT_MISSING; a 404 that names nothing means
   * the PolicyReport CRD is not installed (CRD_MISSING); a 409 is CONFLICT. Anything else fails
   * with a ClusterError.
   */
  private async send<T>(verb: ClusterRequest['verb'], namespace: string, request: () => Promise<T>): Promise<T | typeof OBJECT_MISSING | typeof CRD_MISSING | typeof CONFLICT> {
    try {
      return await request();
    } catch (error) {
      if (isMissingObject(error)) return OBJECT_MISSING;
      const problem = toClusterError(error, { verb, resource: POLICY_REPORTS, namespace }, this.connection);
      if (problem.kind === 'not-found') return CRD_MISSING;
      if (problem.kind === 'conflict') return CONFLICT;
      throw problem;
    }
  }
}

const CONFLICT = Symbol('changed since it was read, or already there');

function storedReport(report: unknown): StoredReport {
  const { namespace = '', name = '', resourceVersion } = objectMetadata(report);
  const metadata = isPlainObject(report) && isPlainObject(report.metadata) ? report.metadata : {};
  const annotations = isPlainObject(metadata.annotations) ? metadata.annotations : {};
  const hash = annotations[RESULTS_HASH_ANNOTATION];
  return { namespace, name, hash: typeof hash === 'string' ? hash : undefined, resourceVersion };
}
