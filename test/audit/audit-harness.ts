import { Writable } from 'node:stream';
import { connect } from '../../src/cluster/connection.js';
import { ContinuousAudit, type AuditTiming } from '../../src/audit/continuous-audit.js';
import { Policy } from '../../src/engine/index.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import { allMCPServers, fixture, startFakeApiServer, type FakeApiServer, type RecordedRequest } from '../cluster/fake-api-server.js';
import { FakeCluster } from '../cluster/fake-cluster.js';

/** Short waits so that a test takes a moment, with the ratios of the defaults. */
export const TEST_TIMING: AuditTiming = {
  lease: { leaseDurationMs: 1000, renewIntervalMs: 300, retryIntervalMs: 100 },
  backoff: { initialMs: 20, maxMs: 200 },
  reportDelayMs: 20,
  crdRecheckMs: 200,
};

export interface MemoryLog {
  readonly logger: Logger;
  lines(): Record<string, unknown>[];
  text(): string;
}

export function memoryLogger(): MemoryLog {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = (): string => chunks.join('');
  return {
    logger: createLogger('debug', sink),
    text,
    lines: () => text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** The fake cluster with the fixtures' four MCPServers and three namespaces. */
export function fixtureCluster(): FakeCluster {
  return new FakeCluster({ mcpservers: allMCPServers(), namespaces: fixture('namespace-list').items as unknown[] });
}

export interface AuditReplica {
  readonly audit: ContinuousAudit;
  readonly metrics: WebhookMetrics;
  readonly log: MemoryLog;
  /** Changes the policy the replica sees; call `audit.policyReloaded()` to tell it. */
  setPolicy(policy: Policy): void;
}

export interface AuditRig {
  readonly cluster: FakeCluster;
  readonly server: FakeApiServer;
  /** Starts one more replica of the audit against the same API server. */
  replica(identity?: string, policy?: Policy): AuditReplica;
  /** The writes the replicas sent (POST, PUT, PATCH, DELETE), optionally of one resource. */
  writes(resource?: 'policyreports' | 'events' | 'leases'): RecordedRequest[];
  close(): Promise<void>;
}

export async function startAuditRig(cluster: FakeCluster = fixtureCluster()): Promise<AuditRig> {
  const server = await startFakeApiServer(cluster.answer);
  const replicas: ContinuousAudit[] = [];
  return {
    cluster,
    server,
    replica: (identity = 'replica-a', initialPolicy = Policy.builtIn()) => {
      let policy = initialPolicy;
      const metrics = new WebhookMetrics();
      const log = memoryLogger();
      const audit = new ContinuousAudit({
        connect: () => connect({ kubeconfig: server.kubeconfig, env: {} }),
        policy: () => policy,
        identity,
        leaseNamespace: 'muster',
        metrics,
        logger: log.logger,
        timing: TEST_TIMING,
      });
      replicas.push(audit);
      audit.start();
      return { audit, metrics, log, setPolicy: (next) => (policy = next) };
    },
    writes: (resource) =>
      server.requests.filter((request) => request.method !== 'GET' && (resource === undefined || request.path.includes(`/${resource}`))),
    close: async () => {
      await Promise.all(replicas.map((replica) => replica.stop()));
      await server.close();
    },
  };
}

/** Waits until `probe` returns (or resolves to) something other than undefined or false. */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Lets the audit do whatever it would do in `ms` (to show that it did not write). */
export function settle(ms = 250): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
