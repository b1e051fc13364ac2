import { readExample } from '../fixtures.js';
import { createNamespace, endpoint, mcpServerPath, type Clients } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import { request, send } from './kube-http.js';

/**
 * What the scale test (scale.e2e.ts) and `npm run bench:scale` share: many varied MCPServers as
 * Muster's `family` use makes them (one per workload cluster), created fast, and a watch of every
 * PolicyReport that tells which MCPServers are reported, whatever the reports' layout: one report
 * per namespace or one per MCPServer.
 */

/** An MCPServer to create, and where. */
export interface PlannedServer {
  readonly namespace: string;
  readonly body: Record<string, unknown>;
}

/**
 * The shapes besides the families, from examples/: remote servers (streamable-http and sse) with
 * headers and auth, stdio with env, and some with findings (plain http, a placeholder left in a
 * header, a literal credential, credentials over plain http, env on a remote server).
 */
const SHAPES = [
  'atlassian.yaml',
  'forward-token.yaml',
  'in-cluster-service.yaml',
  'oauth-discovery.yaml',
  'stdio-kubernetes.yaml',
  'token-exchange.yaml',
  'vendor-tools.yaml',
  'invalid/plaintext-url.yaml',
  'invalid/header-unresolved-placeholder.yaml',
  'invalid/header-literal-credential.yaml',
  'invalid/credential-over-plaintext.yaml',
  'invalid/env-ignored-for-remote.yaml',
  'invalid/sse-with-per-user-auth.yaml',
] as const;

/** Of every ten MCPServers, this many are members of the namespace's `kubernetes` family, one per workload cluster. */
const FAMILY_MEMBERS_IN_TEN = 4;

export interface ScaleOptions {
  /** The share of all MCPServers in `crowded`, 0 to 1. */
  readonly share: number;
  /** The namespace that holds `share` of them; default `muster`. */
  readonly crowded?: string;
  /** The others go into namespaces of this many, `fleet-0`, `fleet-1`, ...; default 100. */
  readonly perNamespace?: number;
}

/**
 * `count` MCPServers, the same for the same arguments: `share` of them in one namespace, the rest
 * in namespaces of `perNamespace`. In each namespace, four in ten are members of one family, one
 * per workload cluster, sharing `family.name` and `instanceArg`; the others take the shapes of
 * examples/ in turn, each with a name and a toolPrefix of its own.
 */
export function scaleFleet(count: number, { share, crowded = 'muster', perNamespace = 100 }: ScaleOptions): PlannedServer[] {
  const inCrowded = Math.round(count * share);
  const shapes = SHAPES.map((file) => readExample(file));
  const planned: PlannedServer[] = [];
  for (let index = 0; index < count; index++) {
    const namespace = index < inCrowded ? crowded : `fleet-${Math.floor((index - inCrowded) / perNamespace)}`;
    const metadata = { namespace, labels: { 'bench.mcpserver-webhook/scale': 'true' } };
    if (index % 10 < FAMILY_MEMBERS_IN_TEN) {
      const cluster = `wc-${String(index).padStart(5, '0')}`;
      const spec = {
        type: 'streamable-http',
        url: `https://mcp-kubernetes.${cluster}.example.com/mcp`,
        description: `Kubernetes tools for the workload cluster ${cluster}.`,
        auth: { type: 'oauth', forwardToken: true },
        family: { name: 'kubernetes', instanceArg: 'management_cluster' },
      };
      planned.push({ namespace, body: { apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { ...metadata, name: `mcp-kubernetes-${cluster}` }, spec } });
      continue;
    }
    const shape = shapes[index % shapes.length] as { metadata: { name: string }; spec: Record<string, unknown> };
    const spec = { ...shape.spec, ...(typeof shape.spec.toolPrefix === 'string' ? { toolPrefix: `${shape.spec.toolPrefix}_${index}` } : {}) };
    planned.push({ namespace, body: { ...shape, metadata: { ...metadata, name: `${shape.metadata.name}-${index}` }, spec } });
  }
  return planned;
}

/** The namespaces of `planned`, each once, in order. */
export function namespacesOf(planned: readonly PlannedServer[]): string[] {
  return [...new Set(planned.map(({ namespace }) => namespace))];
}

/**
 * Creates the namespaces and then the MCPServers as the administrator, `concurrency` POSTs at a
 * time; returns the uids. Any refusal stops it: the scenario must be what it says.
 */
export async function createAll(plane: ControlPlane, clients: Clients, planned: readonly PlannedServer[], concurrency = 16): Promise<string[]> {
  for (const namespace of namespacesOf(planned)) await createNamespace(clients, namespace);
  const uids: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < planned.length) {
      const { namespace, body } = planned[next++] as PlannedServer;
      const answer = await request(endpoint(plane), 'POST', mcpServerPath(namespace), { body, query: { fieldValidation: 'Strict' } });
      if (answer.status >= 300) throw new Error(`creating ${namespace}/${String((body.metadata as { name: string }).name)} failed: ${answer.status} ${answer.text}`);
      uids.push(answer.body.metadata.uid);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return uids;
}

/**
 * The MCPServers a PolicyReport reports, whatever its layout: the object of a report scoped to
 * one (`scope.uid`) and the resources of each result.
 */
export function reportedUids(report: any): string[] {
  const uids = new Set<string>();
  if (typeof report?.scope?.uid === 'string') uids.add(report.scope.uid);
  for (const result of report?.results ?? []) for (const resource of result?.resources ?? []) if (typeof resource?.uid === 'string') uids.add(resource.uid);
  return [...uids];
}

/** Whether a report's `summary` counts each result value as often as its results have it. */
export function summaryAgrees(report: any): boolean {
  const counted: Record<string, number> = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const result of report?.results ?? []) counted[result.result] = (counted[result.result] ?? 0) + 1;
  return Object.entries(counted).every(([value, count]) => (report?.summary?.[value] ?? 0) === count);
}

/** One PolicyReport as last seen by the watch, without its results. */
export interface SeenReport {
  readonly namespace: string;
  readonly name: string;
  /** Its JSON as the API server sent it, in bytes. */
  readonly bytes: number;
  readonly uids: readonly string[];
  readonly summaryAgrees: boolean;
}

const POLICY_REPORTS = '/apis/wgpolicyk8s.io/v1alpha2/policyreports';
/** Watches the API server ends are started again from the last resourceVersion, at most this often. */
const MAX_WATCHES = 100;

/**
 * Every PolicyReport of every namespace, as a watch brings them: each kept as its size, its
 * MCPServers and whether its summary agrees with its results (the reports themselves are not
 * kept: at 10,000 MCPServers they are about 100 MB). A watch costs the API server one write per
 * change, where polling a list would send every report each time.
 */
export class ReportWatch {
  private readonly reports = new Map<string, SeenReport>();
  /** How many reports name each MCPServer. */
  private readonly naming = new Map<string, number>();
  private resourceVersion: string | undefined;
  private stopped = false;
  private current: { destroy(): void } | undefined;
  private readonly running: Promise<void>;

  constructor(private readonly plane: ControlPlane) {
    this.running = this.run();
  }

  /** The reports now. */
  all(): SeenReport[] {
    return [...this.reports.values()];
  }

  /** How many of `uids` no report names. */
  missing(uids: readonly string[]): number {
    return uids.filter((uid) => !this.naming.has(uid)).length;
  }

  /** Resolves when `done()` holds, checked every 250 ms; false after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() >= deadline || this.stopped) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, deadline - Date.now())));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.destroy();
    await this.running;
  }

  private async run(): Promise<void> {
    for (let watches = 0; !this.stopped && watches < MAX_WATCHES; watches++) {
      // A list first, then a watch from its resourceVersion: a watch without one asks for the
      // initial events, which an API server on etcd 3.4 refuses (no RequestWatchProgress).
      const relist = await (this.resourceVersion === undefined ? this.list() : Promise.resolve()).then(() => this.watchOnce()).catch(() => false);
      if (relist) this.resourceVersion = undefined;
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Every report there is now, instead of what was known. */
  private async list(): Promise<void> {
    const answer = await request(endpoint(this.plane), 'GET', POLICY_REPORTS);
    if (answer.status !== 200) throw new Error(`listing PolicyReports failed: ${answer.status}`);
    for (const key of [...this.reports.keys()]) this.forget(key);
    for (const object of answer.body.items) this.keep(object);
    this.resourceVersion = answer.body.metadata.resourceVersion;
  }

  /** One watch until the API server ends it; true when it must list again (410 Gone, or an ERROR event). */
  private watchOnce(): Promise<boolean> {
    const query = { watch: 'true', allowWatchBookmarks: 'true', resourceVersion: this.resourceVersion ?? '' };
    return new Promise((resolve, reject) => {
      const req = send(endpoint(this.plane), 'GET', POLICY_REPORTS, { query }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(res.statusCode === 410);
          return;
        }
        // An event is one line, and a report of thousands of results is megabytes: its chunks wait here.
        let partial: string[] = [];
        let expired = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const pieces = chunk.split('\n');
          if (pieces.length === 1) {
            partial.push(chunk);
            return;
          }
          const lines = [[...partial, pieces[0]].join(''), ...pieces.slice(1, -1)];
          partial = [pieces.at(-1) ?? ''];
          for (const line of lines) if (line.trim() !== '') expired ||= this.take(line);
        });
        res.on('end', () => resolve(expired));
        res.on('error', reject);
      });
      this.current = req;
      req.on('error', reject);
    });
  }

  /** One watch event; true for an ERROR (an expired resourceVersion, mostly): then the watch lists again. */
  private take(line: string): boolean {
    const event = JSON.parse(line) as { type: string; object: any };
    if (event.type === 'ERROR') return true;
    const { namespace, name, resourceVersion } = event.object.metadata;
    this.resourceVersion = resourceVersion;
    if (event.type === 'BOOKMARK') return false;
    if (event.type === 'DELETED') this.forget(`${namespace}/${name}`);
    else this.keep(event.object);
    return false;
  }

  private keep(report: any): void {
    const { namespace, name } = report.metadata;
    const key = `${namespace}/${name}`;
    this.forget(key);
    const seen = { namespace, name, bytes: Buffer.byteLength(JSON.stringify(report)), uids: reportedUids(report), summaryAgrees: summaryAgrees(report) };
    this.reports.set(key, seen);
    for (const uid of seen.uids) this.naming.set(uid, (this.naming.get(uid) ?? 0) + 1);
  }

  private forget(key: string): void {
    for (const uid of this.reports.get(key)?.uids ?? []) {
      const count = (this.naming.get(uid) ?? 0) - 1;
      if (count > 0) this.naming.set(uid, count);
      else this.naming.delete(uid);
    }
    this.reports.delete(key);
  }
}
