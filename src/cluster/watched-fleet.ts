import type { Fleet, NamespaceInfo } from '../engine/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { WebhookMetrics } from '../telemetry/metrics.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { ClusterConnection } from './connection.js';
import { FailureLog } from './failure-log.js';
import { FleetCache, watchReports } from './fleet-cache.js';
import { connectWithBackoff } from './reconnect.js';

export interface WatchedFleetOptions {
  /** Finds the credentials; a ClusterError is logged and retried with backoff. */
  readonly connect: () => ClusterConnection;
  /** Also watch the metadata of Secrets, for the rule referenced-secret. */
  readonly watchSecrets: boolean;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly backoff?: BackoffOptions;
}

/**
 * The fleet view of `serve --fleet` without the continuous audit: the same watch of MCPServers
 * (and of Secrets' metadata), kept in memory for admission, without the audit's judging and
 * writes. Best effort, like the audit: failures are logged once and retried, and until the first
 * list has arrived the rules across objects do not run (they never deny on a guess).
 */
export class WatchedFleet {
  private readonly stopping = new AbortController();
  private readonly failures: FailureLog;
  private watch: FleetCache | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: WatchedFleetOptions) {
    this.failures = new FailureLog(options.logger, 'fleet view');
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.watch?.stop();
  }

  fleet(): Fleet | undefined {
    return this.watch?.fleet();
  }

  /** The fleet view does not watch namespaces: a namespace is known by its name. */
  namespaceInfo(name: string): NamespaceInfo {
    return { name };
  }

  /** Nothing is judged here: admission reads the policy itself. */
  policyReloaded(): void {}

  private async run(): Promise<void> {
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF;
    const connection = await connectWithBackoff(this.options.connect, this.failures, backoff, this.stopping.signal);
    if (!connection) return;
    const { metrics, logger, watchSecrets } = this.options;
    this.watch = new FleetCache({ connection, backoff, secrets: watchSecrets, reports: watchReports(metrics, this.failures) });
    let announced = false;
    this.watch.start({
      synced: (fleet) => {
        if (announced) return;
        announced = true;
        logger.info({ event: 'fleet-synced', mcpservers: fleet.size }, `fleet view synced: ${fleet.size} MCPServers in view of the rules across objects`);
      },
      changed: () => {},
    });
    logger.info(
      { event: 'fleet-started', server: connection.server, secrets: watchSecrets },
      `fleet view started against ${connection.server}: watching MCPServers${watchSecrets ? " and Secrets' metadata" : ''} for the rules across objects`,
    );
  }
}
