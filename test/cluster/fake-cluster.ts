import { randomUUID } from 'node:crypto';
import { fixture, WatchStream, type Answer, type RecordedRequest } from './fake-api-server.js';

/**
 * The state behind the fake API server for the continuous audit: MCPServers and namespaces that
 * can be listed and watched, PolicyReports, Events and Leases that can be written, each with the
 * resourceVersion semantics of kube-apiserver (one counter for everything, optimistic concurrency
 * on update) and its Status bodies (recorded in fixtures/, see fixtures/README.md). Tests change
 * the state through the methods below and read it back from the maps.
 */

type KubeObject = Record<string, unknown> & { metadata: Metadata };
interface Metadata {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  [key: string]: unknown;
}

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

const MCPSERVERS: Resource = { group: 'muster.giantswarm.io', version: 'v1alpha1', plural: 'mcpservers', kind: 'MCPServer' };
const NAMESPACES: Resource = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' };
const POLICY_REPORTS: Resource = { group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', kind: 'PolicyReport' };
const EVENTS: Resource = { group: '', version: 'v1', plural: 'events', kind: 'Event' };
const LEASES: Resource = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' };

const qualified = (resource: Resource): string => (resource.group ? `${resource.plural}.${resource.group}` : resource.plural);
const apiVersion = (resource: Resource): string => (resource.group ? `${resource.group}/${resource.version}` : resource.version);

/** The Status body kube-apiserver sends with an error (apierrors.NewNotFound, NewConflict, …). */
export function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** `details` names the group only outside the core group, as the API server does. */
function objectDetails(resource: Resource, name: string): Record<string, unknown> {
  return { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural };
}

export const notFound = (resource: Resource, name: string): Answer => ({
  status: 404,
  body: statusBody(404, 'NotFound', `${qualified(resource)} "${name}" not found`, objectDetails(resource, name)),
});

export const alreadyExists = (resource: Resource, name: string): Answer => ({
  status: 409,
  body: statusBody(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, objectDetails(resource, name)),
});

export const conflict = (resource: Resource, name: string): Answer => ({
  status: 409,
  body: statusBody(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    objectDetails(resource, name),
  ),
});

/** The watch event of a resourceVersion that left the history (the watch cache's NewResourceExpired). */
export function tooOldResourceVersion(requested: number, oldest: number): Record<string, unknown> {
  return statusBody(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}

const RESOURCE_NOT_SERVED: Answer = { status: 404, body: fixture('status-404-not-found') };

/** metav1.MicroTime as the API server parses it: RFC 3339 with exactly six fractional digits. */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface HistoryEntry {
  readonly resourceVersion: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeObject;
}

/** A collection that can be listed and watched, with the event history a watch resumes from. */
class WatchedCollection {
  readonly items = new Map<string, KubeObject>();
  private readonly history: HistoryEntry[] = [];
  /** The oldest resourceVersion a watch may still resume from. */
  oldestResumable = 0;
  readonly watches = new Set<WatchStream>();

  constructor(
    readonly resource: Resource,
    private readonly listKind: string,
  ) {}

  record(resourceVersion: number, type: HistoryEntry['type'], object: KubeObject): void {
    this.history.push({ resourceVersion, type, object });
    for (const watch of this.watches) watch.send(type, object);
  }

  list(resourceVersion: number): Record<string, unknown> {
    const items = [...this.items.values()].sort((a, b) => key(a).localeCompare(key(b)));
    return { apiVersion: apiVersion(this.resource), items, kind: this.listKind, metadata: { resourceVersion: String(resourceVersion) } };
  }

  watch(from: number): WatchStream {
    const stream = new WatchStream();
    if (from < this.oldestResumable) {
      // kube-apiserver answers 200 and a single ERROR event (kubernetes/kubernetes#25369), then ends the stream.
      stream.send('ERROR', tooOldResourceVersion(from, this.oldestResumable));
      stream.close();
      return stream;
    }
    for (const entry of this.history) if (entry.resourceVersion > from) stream.send(entry.type, entry.object);
    this.watches.add(stream);
    stream.onEnd = () => this.watches.delete(stream);
    return stream;
  }
}

const key = (object: KubeObject): string => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;

export interface FakeClusterOptions {
  readonly mcpservers?: readonly unknown[];
  readonly namespaces?: readonly unknown[];
  /** Secrets by `namespace/name`: served as metadata only (PartialObjectMetadata), as asked for. */
  readonly secrets?: readonly string[];
}

/** What a metadata-only client asks for, list and watch (k8s.io/client-go/metadata). */
const PARTIAL_OBJECT_METADATA = /^application\/json;as=PartialObjectMetadata(List)?;g=meta\.k8s\.io;v=v1$/;

export class FakeCluster {
  private resourceVersion = 48213;
  readonly mcpservers = new WatchedCollection(MCPSERVERS, 'MCPServerList');
  readonly namespaces = new WatchedCollection(NAMESPACES, 'NamespaceList');
  /** The metadata of Secrets: this fake holds no data, and answers only metadata requests. */
  readonly secrets = new WatchedCollection({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret' }, 'PartialObjectMetadataList');
  /** By `namespace/name`. */
  readonly policyReports = new Map<string, KubeObject>();
  readonly events = new Map<string, KubeObject>();
  readonly leases = new Map<string, KubeObject>();
  /** False: the PolicyReport CRD is not installed, every policyreports path is not served. */
  policyReportsServed = true;
  /** A request it matches is answered 500, as by an API server in trouble. */
  failing: ((request: RecordedRequest) => boolean) | undefined;
  /** Answers a request it has an answer for (a 403 of RBAC, a 413), before anything else. */
  refusing: ((request: RecordedRequest) => Answer | undefined) | undefined;

  constructor(options: FakeClusterOptions = {}) {
    for (const object of options.mcpservers ?? []) this.mcpservers.items.set(key(object as KubeObject), structuredClone(object as KubeObject));
    for (const object of options.namespaces ?? []) this.namespaces.items.set(key(object as KubeObject), structuredClone(object as KubeObject));
    for (const secret of options.secrets ?? []) this.createSecret(secret);
  }

  /** A Secret appears (`namespace/name`): watches of Secrets' metadata see ADDED. */
  createSecret(namespacedName: string): void {
    const [namespace = '', name = ''] = namespacedName.split('/');
    const metadata = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name, namespace, uid: randomUUID(), resourceVersion: String(++this.resourceVersion) } };
    this.secrets.items.set(namespacedName, metadata as unknown as KubeObject);
    this.secrets.record(this.resourceVersion, 'ADDED', metadata as unknown as KubeObject);
  }

  /** Creates or changes an MCPServer, as `kubectl apply` would: watches see ADDED or MODIFIED. */
  apply(object: Record<string, unknown>): KubeObject {
    const stored = structuredClone(object) as KubeObject;
    const previous = this.mcpservers.items.get(key(stored));
    stored.metadata.uid = previous?.metadata.uid ?? stored.metadata.uid ?? randomUUID();
    stored.metadata.resourceVersion = String(++this.resourceVersion);
    this.mcpservers.items.set(key(stored), stored);
    this.mcpservers.record(this.resourceVersion, previous ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  remove(namespace: string, name: string): void {
    const object = this.mcpservers.items.get(`${namespace}/${name}`);
    if (!object) throw new Error(`no MCPServer ${namespace}/${name}`);
    this.mcpservers.items.delete(key(object));
    const deleted = structuredClone(object);
    deleted.metadata.resourceVersion = String(++this.resourceVersion);
    this.mcpservers.record(this.resourceVersion, 'DELETED', deleted);
  }

  labelNamespace(name: string, labels: Record<string, string>): void {
    const namespace = this.namespaces.items.get(`/${name}`);
    if (!namespace) throw new Error(`no namespace ${name}`);
    const changed = structuredClone(namespace);
    changed.metadata.labels = { ...labels, 'kubernetes.io/metadata.name': name };
    changed.metadata.resourceVersion = String(++this.resourceVersion);
    this.namespaces.items.set(key(changed), changed);
    this.namespaces.record(this.resourceVersion, 'MODIFIED', changed);
  }

  /** The API server ends every open watch (its timeout, a restart, a dropped connection). */
  closeWatches(): void {
    for (const collection of [this.mcpservers, this.namespaces, this.secrets]) for (const watch of collection.watches) watch.close();
  }

  /**
   * The history is compacted up to now: open MCPServer watches get ERROR 410 and end, as does a
   * watch that resumes from an older resourceVersion; a list (which gives the current one) and a
   * watch from it work.
   */
  expireHistory(): void {
    const oldest = this.resourceVersion;
    this.mcpservers.oldestResumable = oldest;
    for (const watch of this.mcpservers.watches) {
      watch.send('ERROR', tooOldResourceVersion(oldest - 1, oldest));
      watch.close();
    }
  }

  /** A BOOKMARK on every open MCPServer watch: the resourceVersion moves on without a change. */
  bookmark(): void {
    const resourceVersion = String(++this.resourceVersion);
    for (const watch of this.mcpservers.watches) {
      watch.send('BOOKMARK', { kind: MCPSERVERS.kind, apiVersion: apiVersion(MCPSERVERS), metadata: { resourceVersion } });
    }
  }

  /** Gives the answer of kube-apiserver to one request. */
  readonly answer = (request: RecordedRequest): Answer | undefined => {
    const refused = this.refusing?.(request);
    if (refused) return refused;
    if (this.failing?.(request)) return { status: 500, body: statusBody(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out') };
    const { path, method } = request;
    if (path === '/apis/muster.giantswarm.io/v1alpha1/mcpservers' && method === 'GET') return this.listOrWatch(this.mcpservers, request);
    if (path === '/api/v1/namespaces' && method === 'GET') return this.listOrWatch(this.namespaces, request);
    if (path === '/api/v1/secrets' && method === 'GET') {
      // Anything but metadata is refused here: the test fails if the webhook ever asks for Secrets' data.
      if (!PARTIAL_OBJECT_METADATA.test(request.accept ?? '')) return { status: 406, body: statusBody(406, 'NotAcceptable', 'this fake serves Secrets as metadata only') };
      return this.listOrWatch(this.secrets, request);
    }

    const reports = /^\/apis\/wgpolicyk8s\.io\/v1alpha2\/(?:namespaces\/([^/]+)\/)?policyreports(?:\/([^/]+))?$/.exec(path);
    if (reports) {
      if (!this.policyReportsServed) return RESOURCE_NOT_SERVED;
      const [, namespace, name] = reports;
      if (namespace === undefined) return method === 'GET' ? this.listReports(request) : undefined;
      return this.objectRequest(POLICY_REPORTS, this.policyReports, namespace, name, request);
    }
    const events = /^\/api\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/.exec(path);
    if (events) return this.objectRequest(EVENTS, this.events, events[1] ?? '', events[2], request);
    const leases = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/leases(?:\/([^/]+))?$/.exec(path);
    if (leases) return this.objectRequest(LEASES, this.leases, leases[1] ?? '', leases[2], request);
    return undefined;
  };

  private listOrWatch(collection: WatchedCollection, request: RecordedRequest): Answer {
    if (request.query.watch !== 'true') return { status: 200, body: collection.list(this.resourceVersion) };
    const from = Number(request.query.resourceVersion || this.resourceVersion);
    return { stream: collection.watch(from) };
  }

  private listReports(request: RecordedRequest): Answer {
    const [label, value] = (request.query.labelSelector ?? '').split('=');
    const items = [...this.policyReports.values()].filter((report) => !label || report.metadata.labels?.[label] === value);
    return { status: 200, body: { apiVersion: 'wgpolicyk8s.io/v1alpha2', items, kind: 'PolicyReportList', metadata: { resourceVersion: String(this.resourceVersion) } } };
  }

  /** GET, POST, PUT, PATCH and DELETE of one object, with the API server's checks and Status answers. */
  private objectRequest(resource: Resource, store: Map<string, KubeObject>, namespace: string, name: string | undefined, request: RecordedRequest): Answer | undefined {
    const body = request.body as KubeObject | undefined;
    if (name === undefined) {
      if (request.method !== 'POST' || !body?.metadata?.name) return undefined;
      const invalid = this.invalid(resource, namespace, body);
      if (invalid) return invalid;
      if (store.has(`${namespace}/${body.metadata.name}`)) return alreadyExists(resource, body.metadata.name);
      return { status: 201, body: this.store(resource, store, namespace, body, undefined) };
    }
    const existing = store.get(`${namespace}/${name}`);
    switch (request.method) {
      case 'GET':
        return existing ? { status: 200, body: existing } : notFound(resource, name);
      case 'DELETE':
        if (!existing) return notFound(resource, name);
        store.delete(`${namespace}/${name}`);
        return { status: 200, body: statusBody(200, '', '', objectDetails(resource, name)) };
      case 'PUT': {
        if (!existing) return notFound(resource, name);
        if (!body) return undefined;
        if (body.metadata.resourceVersion !== existing.metadata.resourceVersion) return conflict(resource, name);
        const invalid = this.invalid(resource, namespace, body);
        if (invalid) return invalid;
        return { status: 200, body: this.store(resource, store, namespace, body, existing) };
      }
      case 'PATCH': {
        if (!existing) return notFound(resource, name);
        if (request.contentType !== 'application/json-patch+json' || !Array.isArray(request.body)) return undefined;
        const patched = structuredClone(existing);
        for (const { op, path, value } of request.body as { op: string; path: string; value: unknown }[]) {
          if (op !== 'replace' || !/^\/\w+$/.test(path)) return { status: 422, body: statusBody(422, 'Invalid', `the fake applies only replace of a top-level field, not ${op} ${path}`) };
          patched[path.slice(1)] = value;
        }
        return { status: 200, body: this.store(resource, store, namespace, patched, existing) };
      }
      default:
        return undefined;
    }
  }

  /** The server-side checks that matter here: MicroTime format on leases, the namespace of an Event's object. */
  private invalid(resource: Resource, namespace: string, body: KubeObject): Answer | undefined {
    if (resource === LEASES) {
      const spec = (body.spec ?? {}) as Record<string, unknown>;
      for (const field of ['acquireTime', 'renewTime'] as const) {
        const value = spec[field];
        if (value !== undefined && value !== null && !(typeof value === 'string' && MICRO_TIME.test(value))) {
          return {
            status: 400,
            body: statusBody(400, 'BadRequest', `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse`),
          };
        }
      }
    }
    if (resource === EVENTS) {
      const involved = (body.involvedObject ?? {}) as { namespace?: unknown };
      if (involved.namespace !== namespace) {
        return { status: 422, body: statusBody(422, 'Invalid', `Event "${body.metadata.name}" is invalid: involvedObject.namespace: Invalid value: "${String(involved.namespace)}": does not match event.namespace`) };
      }
    }
    return undefined;
  }

  private store(resource: Resource, store: Map<string, KubeObject>, namespace: string, body: KubeObject, existing: KubeObject | undefined): KubeObject {
    const object = structuredClone(body);
    object.apiVersion = apiVersion(resource);
    object.kind = resource.kind;
    object.metadata = {
      ...object.metadata,
      namespace,
      uid: existing?.metadata.uid ?? randomUUID(),
      resourceVersion: String(++this.resourceVersion),
      creationTimestamp: (existing?.metadata.creationTimestamp as string | undefined) ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    store.set(`${namespace}/${object.metadata.name}`, object);
    return object;
  }
}
