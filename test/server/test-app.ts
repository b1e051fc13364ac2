import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { RequestListener } from 'node:http';
import { Policy, type NamespaceInfo } from '../../src/engine/index.js';
import { createWebhookApp } from '../../src/server/app.js';
import { SchemaDriftLog } from '../../src/server/judge.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import { Readiness } from '../../src/server/readiness.js';

export interface TestApp {
  readonly app: RequestListener;
  readonly metrics: WebhookMetrics;
  readonly readiness: Readiness;
  /** Every log line written so far, parsed. */
  logs(): Record<string, unknown>[];
  /** Every log line written so far, as written. */
  logText(): string;
}

/**
 * The real application with its real collaborators; only the log goes to memory instead of stdout.
 * `namespaceInfo` stands in for the continuous audit's namespace labels.
 */
export function testApp(policy: Policy = Policy.builtIn(), namespaceInfo?: (name: string) => NamespaceInfo): TestApp {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const metrics = new WebhookMetrics();
  const readiness = new Readiness();
  readiness.loaded('policy');
  readiness.loaded('certificates');
  const logger = createLogger('debug', sink);
  const drift = new SchemaDriftLog(logger, metrics);
  const app = createWebhookApp({ policy: () => policy, metrics, readiness, logger, drift, ...(namespaceInfo ? { namespaceInfo } : {}) });
  const logText = (): string => lines.join('');
  return {
    app,
    metrics,
    readiness,
    logText,
    logs: () => logText().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** The value of one series in the Prometheus text, or undefined when it is absent. */
export function metricValue(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The application on a real socket on loopback, for what supertest cannot do; `close` ends it. */
export async function listening(app: RequestListener): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
