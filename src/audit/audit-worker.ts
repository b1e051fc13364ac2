import { Writable } from 'node:stream';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Policy } from '../engine/index.js';
import { createLogger } from '../telemetry/logger.js';
import { WebhookMetrics } from '../telemetry/metrics.js';
import { encodeChanges, type CacheChange } from '../cluster/cache-change.js';
import { connect } from '../cluster/connection.js';
import type { AuditWorkerData, FromWorker, ToWorker } from './audit-thread.js';
import { ContinuousAudit } from './continuous-audit.js';

/**
 * The worker thread of the continuous audit, started by AuditThread (audit-thread.ts), which
 * explains why. It runs the same ContinuousAudit a test runs in its own thread; what it adds is
 * only the conversation with the main thread: the cache's changes, log lines and metrics out;
 * policy reloads, scrapes and the stop in.
 */

/**
 * How many cache changes go in one message. A first list of thousands arrives at once; in pieces,
 * each sent when the main thread has applied the last, the main thread takes them in between
 * reviews. Sent all at once, the 40 messages of 10,000 MCPServers held the main thread for 163 ms
 * in one measured run (docs/performance.md).
 */
const CHANGES_PER_MESSAGE = 256;

function run(port: MessagePort, settings: AuditWorkerData): void {
  const send = (message: FromWorker): void => port.postMessage(message);
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      send({ kind: 'log', lines: chunk.toString() });
      done();
    },
  });
  const logger = createLogger(settings.logLevel, lines);
  const metrics = new WebhookMetrics({ processMetrics: false });
  let policy = new Policy(settings.policy.document, settings.policy.source);

  // One message of changes at a time: the next leaves when the main thread has taken the last in.
  const changes: CacheChange[] = [];
  let unacknowledged = false;
  let flushing: NodeJS.Immediate | undefined;
  const flush = (): void => {
    clearImmediate(flushing);
    flushing = undefined;
    if (changes.length === 0 || unacknowledged) return;
    send({ kind: 'cache', changes: encodeChanges(changes.splice(0, CHANGES_PER_MESSAGE)) });
    unacknowledged = true;
  };

  const audit = new ContinuousAudit({
    connect: () => connect(settings.connect),
    policy: () => policy,
    identity: settings.identity,
    leaseNamespace: settings.leaseNamespace,
    watchSecrets: settings.watchSecrets,
    writeLimit: settings.writeLimit,
    metrics,
    logger,
    ...(settings.timing ? { timing: settings.timing } : {}),
    replicate: (change) => {
      changes.push(change);
      flushing ??= setImmediate(flush);
    },
  });

  port.on('message', (message: ToWorker) => {
    switch (message.kind) {
      case 'applied':
        unacknowledged = false;
        flush();
        return;
      case 'policy':
        policy = new Policy(message.document, message.source);
        audit.policyReloaded();
        return;
      case 'metrics':
        void metrics.registry.getMetricsAsJSON().then((snapshot) => send({ kind: 'metrics', id: message.id, snapshot }));
        return;
      case 'stop':
        void audit.stop().then(() => send({ kind: 'stopped' }));
        return;
    }
  });
  audit.start();
}

if (!parentPort) throw new Error('audit-worker.js runs in a worker thread that AuditThread starts, not on its own');
run(parentPort, workerData as AuditWorkerData);
