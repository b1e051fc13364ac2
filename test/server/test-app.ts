import { Writable } from 'node:stream';
import type { Express } from 'express';
import { Policy, type NamespaceInfo } from '../../src/engine/index.js';
import { createWebhookApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { WebhookMetrics } from '../../src/server/metrics.js';
import { Readiness } from '../../src/server/readiness.js';

export interface TestApp {
  readonly app: Express;
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
  const app = createWebhookApp({ policy: () => policy, metrics, readiness, logger: createLogger('debug', sink), ...(namespaceInfo ? { namespaceInfo } : {}) });
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
