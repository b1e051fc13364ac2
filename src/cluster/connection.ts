import type { V1Namespace } from '@kubernetes/client-node';
import { MCPSERVER_RESOURCE } from '../engine/index.js';
import type { ClusterErrorKind } from '../telemetry/vocabulary.js';
import { ApiClient, ApiError } from './api-client.js';
import { ClusterError, firstLine } from './cluster-error.js';
import type { ClusterConnection } from './kubeconfig.js';

/**
 * The Kubernetes-facing half of the audit: the resources it reads and writes, how a collection is
 * listed page by page, and what a failed request means in one line a person can act on (where the
 * credentials come from is kubeconfig.ts). Kept
 * apart from the command so that a continuous audit in the server can connect and explain its
 * failures the same way.
 */

/** A resource of the Kubernetes API, named as RBAC rules and error messages name it. */
export interface ApiResource {
  /** `''` for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

export const MCPSERVERS: ApiResource = MCPSERVER_RESOURCE;
export const NAMESPACES: ApiResource = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
export const EVENTS: ApiResource = { group: '', version: 'v1', plural: 'events', kind: 'Event' };
export const LEASES: ApiResource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };
export const SECRETS: ApiResource = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
/** The Policy Report API of the Kubernetes Policy working group, as Kyverno and Policy Reporter read it. */
export const POLICY_REPORTS: ApiResource = { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport' };

/** `mcpservers.muster.giantswarm.io`, or `namespaces` for the core group, as kubectl and RBAC write it. */
export function resourceName(resource: ApiResource): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

/** The URL path of a collection, e.g. `/apis/muster.giantswarm.io/v1alpha1/mcpservers` or `/api/v1/namespaces`. */
export function collectionPath(resource: ApiResource): string {
  return `${groupVersionPath(resource)}/${resource.plural}`;
}

/** The URL path of a namespace's collection, or of one object in it when `name` is given. */
export function namespacedPath(resource: ApiResource, namespace: string, name?: string): string {
  const collection = `${groupVersionPath(resource)}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`;
  return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
}

/** Where a group and version are served: the core group under /api, every other under /apis. */
function groupVersionPath(resource: ApiResource): string {
  return resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`;
}

export { ClusterError };

export { connect, type ClusterConnection, type ConnectOptions } from './kubeconfig.js';

/** A request, as the messages of a failure need it. */
export interface ClusterRequest {
  readonly verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  readonly resource: ApiResource;
  /** Absent for a request at the cluster scope. */
  readonly namespace?: string;
}

/** The body of an error answer from the API server (metav1.Status), as far as messages use it. */
interface Status {
  readonly kind?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly name?: string; readonly group?: string; readonly kind?: string };
}

/** Turns whatever a client-node call threw into a ClusterError whose message names the fix. */
export function toClusterError(error: unknown, request: ClusterRequest, connection: ClusterConnection): ClusterError {
  if (error instanceof ClusterError) return error;
  if (error instanceof ApiError) return fromAnswer(error.code, parseStatus(error.body), request, connection);
  // ApiClient fails as fetch does: with a TypeError whose cause is the network error.
  const cause = error instanceof TypeError ? error.cause : undefined;
  if (cause instanceof Error) {
    return new ClusterError('unreachable', `cannot connect to the Kubernetes API server at ${connection.server}: ${describeNetworkError(cause)}`);
  }
  // Credentials that could not be produced (an exec plugin that failed, an unreadable token
  // file) or a kubeconfig client-node refuses: nothing was sent.
  return new ClusterError('config', `cannot send a request to the Kubernetes API server at ${connection.server}: ${firstLine(error)}`);
}

/** The `Status` object of a watch's ERROR event, explained as an answer to the watch. */
export function watchErrorToClusterError(status: unknown, request: ClusterRequest, connection: ClusterConnection): ClusterError {
  const known = isStatus(status) ? status : undefined;
  return fromAnswer(typeof known?.code === 'number' ? known.code : 500, known, request, connection);
}

/**
 * A 404 whose Status names the object: the resource is served and this object does not exist.
 * A resource that is not served at all (a CRD not installed) answers a 404 that names nothing.
 */
export function isMissingObject(error: unknown): boolean {
  return error instanceof ApiError && error.code === 404 && Boolean(parseStatus(error.body)?.details?.name);
}

/** The answers whose meaning a caller acts on; any other is `rejected`. */
const KIND_OF_CODE: Readonly<Record<number, ClusterErrorKind>> = { 400: 'invalid', 409: 'conflict', 410: 'expired', 413: 'too-large', 422: 'invalid', 429: 'throttled' };

function fromAnswer(code: number, status: Status | undefined, request: ClusterRequest, connection: ClusterConnection): ClusterError {
  const { server, credentials } = connection;
  const { resource } = request;
  switch (code) {
    case 401:
      return new ClusterError(
        'unauthorized',
        `the Kubernetes API server at ${server} rejected the credentials of ${credentials} (401 Unauthorized): they are missing, wrong or expired; log in again or renew the token`,
      );
    case 403:
      return new ClusterError('forbidden', forbiddenMessage(status, request));
    case 404:
      return new ClusterError('not-found', notFoundMessage(status, request, server));
    default:
      return new ClusterError(
        KIND_OF_CODE[code] ?? 'rejected',
        `the Kubernetes API server at ${server} answered ${code}${status?.reason ? ` ${status.reason}` : ''} to ${request.verb} ${resourceName(resource)}${status?.message ? `: ${status.message}` : ''}`,
      );
  }
}

/** A 404 that names the object means it does not exist; one that names nothing, that the resource is not served. */
function notFoundMessage(status: Status | undefined, { resource, namespace }: ClusterRequest, server: string): string {
  const name = status?.details?.name;
  if (name) return `the ${resource.kind} ${namespace === undefined ? '' : `${namespace}/`}${name} does not exist (404 from the API server at ${server})`;
  return resource.group
    ? `the ${resource.kind} CRD (${resourceName(resource)}) is not installed in this cluster: the API server at ${server} does not serve ${resource.group}/${resource.version} ${resource.plural}`
    : `the Kubernetes API server at ${server} does not serve ${resource.version} ${resource.plural}`;
}

// The authorizer's own words, e.g. `User "system:serviceaccount:muster:auditor" cannot list resource
// "mcpservers" in API group "muster.giantswarm.io" at the cluster scope`.
const FORBIDDEN_MESSAGE = /User "([^"]*)" cannot (\S+)/;

function forbiddenMessage(status: Status | undefined, request: ClusterRequest): string {
  const match = FORBIDDEN_MESSAGE.exec(status?.message ?? '');
  const user = match?.[1];
  const verb = match?.[2] ?? request.verb;
  const group = status?.details?.group ?? request.resource.group;
  const plural = status?.details?.kind ?? request.resource.plural;
  const what = resourceName({ ...request.resource, group, plural });
  const scope = request.namespace === undefined ? 'at the cluster scope' : `in the namespace ${request.namespace}`;
  if (user === 'system:anonymous') {
    // Granting RBAC to anonymous would be the wrong fix: the credentials did not reach the server.
    return `the Kubernetes API server took the request as anonymous (system:anonymous), so it may not ${verb} ${what} ${scope}: give the kubeconfig credentials the server accepts`;
  }
  const who = user === undefined ? 'the credentials in use' : user.startsWith('system:serviceaccount:') ? `the service account ${user}` : `the user ${user}`;
  return `${who} may not ${verb} ${what} ${scope}: grant ${verb} (RBAC)`;
}

function parseStatus(body: unknown): Status | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const status: unknown = JSON.parse(body);
    return isStatus(status) ? status : undefined;
  } catch {
    return undefined; // Not every 404 is a Status: older API servers answer "404 page not found".
  }
}

function isStatus(value: unknown): value is Status {
  return typeof value === 'object' && value !== null && (value as Status).kind === 'Status';
}

function describeNetworkError(cause: Error): string {
  // A host with several addresses fails with an AggregateError whose members carry the code.
  const errors = cause instanceof AggregateError ? (cause.errors as unknown[]) : [];
  const code = (cause as NodeJS.ErrnoException).code ?? (errors[0] as NodeJS.ErrnoException | undefined)?.code;
  const message = cause.message || String(errors[0] ?? 'no answer');
  if (!code || message.includes(code)) return message;
  return `${code} (${message})`;
}

/** A listed collection. `resourceVersion` is where a watch picks up after the list. */
export interface Listed<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string | undefined;
}

/** kubectl's default --chunk-size: few round trips, bounded memory on the API server. */
export const PAGE_SIZE = 500;

/**
 * What a client asks for to get PartialObjectMetadata instead of the objects: names, namespaces
 * and labels, never a Secret's data (client-go's metadata client asks the same, in
 * k8s.io/client-go/metadata). No plain `application/json` fallback: an API server that cannot
 * answer with metadata alone gets an error, not a chance to send the data.
 */
export const METADATA_ONLY = {
  list: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  watch: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
} as const;

export interface ListQuery {
  /** One namespace; all namespaces when absent. */
  readonly namespace?: string;
  /** A Kubernetes label selector, e.g. `team=search,tier!=dev`. */
  readonly labelSelector?: string;
  /** A field selector, e.g. `metadata.name=muster`. */
  readonly fieldSelector?: string;
  /** Names, namespaces, labels and annotations only (PartialObjectMetadata). */
  readonly metadataOnly?: boolean;
  /** What is kept of each object as it arrives (client-go's transform): by default all of it. */
  readonly keep?: (item: unknown) => unknown;
}

/**
 * Lists a whole collection page by page; each page is cut down to what is kept before the next
 * arrives, so a list of thousands never stands in memory whole. A continue token that expired
 * mid-way (410) starts one unpaged list instead, as client-go's pager does: the audit wants every
 * object, and a fresh list is as good as the snapshot that expired. Fails with a ClusterError.
 */
export async function listObjects(connection: ClusterConnection, resource: ApiResource, query: ListQuery = {}): Promise<Listed<unknown>> {
  const api = new ApiClient(connection);
  const { namespace, labelSelector, fieldSelector, keep = (item: unknown) => item } = query;
  const path = namespace === undefined ? collectionPath(resource) : namespacedPath(resource, namespace);
  const accept = query.metadataOnly ? METADATA_ONLY.list : undefined;
  const request: ClusterRequest = { verb: 'list', resource, ...(namespace === undefined ? {} : { namespace }) };
  const fetchPage = async (paging: { limit?: number; continue?: string }) => {
    const list = (await api.get(path, { query: { labelSelector, fieldSelector, ...paging }, ...(accept ? { accept } : {}) })) ?? {};
    const { items, metadata } = list as { items?: unknown[] | null; metadata?: { continue?: string; resourceVersion?: string } };
    // A PartialObjectMetadataList of no objects comes with `"items": null`.
    return { items: items ?? [], continueToken: metadata?.continue || undefined, resourceVersion: metadata?.resourceVersion };
  };
  const items: unknown[] = [];
  let resourceVersion: string | undefined;
  let continueToken: string | undefined;
  try {
    do {
      const page = await fetchPage({ limit: PAGE_SIZE, ...(continueToken ? { continue: continueToken } : {}) });
      for (const item of page.items) items.push(keep(item));
      resourceVersion = page.resourceVersion;
      continueToken = page.continueToken;
    } while (continueToken);
    return { items, resourceVersion };
  } catch (error) {
    if (!(continueToken && error instanceof ApiError && error.code === 410)) throw toClusterError(error, request, connection);
  }
  try {
    const whole = await fetchPage({});
    return { items: whole.items.map(keep), resourceVersion: whole.resourceVersion };
  } catch (error) {
    throw toClusterError(error, request, connection);
  }
}

/** Every MCPServer the query matches, as the API server stores it. */
export function listMCPServers(connection: ClusterConnection, query: ListQuery = {}): Promise<Listed<unknown>> {
  return listObjects(connection, MCPSERVERS, query);
}

/** The metadata of every Secret in the cluster (PartialObjectMetadata), page by page; never their data. */
export async function listSecretsMetadata<Kept = unknown>(connection: ClusterConnection, keep?: (secret: unknown) => Kept): Promise<Listed<Kept>> {
  return (await listObjects(connection, SECRETS, { metadataOnly: true, keep })) as Listed<Kept>;
}

/** Every namespace, or the one named. Needs `list namespaces` at the cluster scope. */
export async function listNamespaces(connection: ClusterConnection, name?: string): Promise<Listed<V1Namespace>> {
  return (await listObjects(connection, NAMESPACES, name === undefined ? {} : { fieldSelector: `metadata.name=${name}` })) as Listed<V1Namespace>;
}

export type Labels = Readonly<Record<string, string>>;

/** The labels of every namespace, or of the one named. */
export async function listNamespaceLabels(connection: ClusterConnection, name?: string): Promise<Map<string, Labels>> {
  const listed = await listNamespaces(connection, name);
  return new Map(listed.items.flatMap((namespace) => (namespace.metadata?.name ? [[namespace.metadata.name, namespace.metadata.labels ?? {}] as const] : [])));
}
