import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Policy, type Fleet, type NamespaceInfo } from '../engine/index.js';
import { createOperationsApp, createWebhookApp } from './app.js';
import { CertificateWatcher, type ServingCertificate } from './certificates.js';
import { closeGracefully, createPlainListener, createTlsListener, listen, secureContextOptions } from './listeners.js';
import { SchemaDriftLog } from './judge.js';
import { errorFields, type Logger } from '../telemetry/logger.js';
import { WebhookMetrics } from '../telemetry/metrics.js';
import { PolicyWatcher } from './policy-watcher.js';
import { Readiness } from './readiness.js';

export interface WebhookServerOptions {
  /** Undefined: every interface. */
  readonly host: string | undefined;
  /** 0 picks a free port; the bound one is in the result. */
  readonly port: number;
  /** Holds tls.crt and tls.key (and maybe ca.crt); checked before the server starts. */
  readonly certDir: string;
  /** PEM of the CA that client certificates must be signed by; undefined: no client certificates. */
  readonly clientCa: string | undefined;
  /** A port for plain-HTTP metrics and probes, or undefined for none. */
  readonly metricsPort: number | undefined;
  /** A policy file to load and keep watching, with its loader; undefined: the built-in policy. */
  readonly policyFile: { readonly path: string; readonly load: (file: string) => Promise<Policy> } | undefined;
  /** How often certificates and the policy file are looked at, besides file-system events. */
  readonly pollIntervalMs: number;
  /** The longest a shutdown waits for requests in flight before it cuts their connections. */
  readonly shutdownGraceMs: number;
  readonly logger: Logger;
  /** Makes the continuous audit (`--audit`) or the fleet view alone (`--fleet`), or undefined for neither. */
  readonly audit: CompanionFactory | undefined;
}

/**
 * Work that runs beside admission in the same process: the continuous audit of `--audit`, or the
 * fleet view of `--fleet`. The server only starts and stops it, tells it of policy reloads and
 * asks it for namespace labels and the fleet; it knows nothing of the cluster client, which the
 * CLI loads only when asked.
 */
export interface Companion {
  start(): void;
  stop(): Promise<void>;
  policyReloaded(): void;
  namespaceInfo(name: string): NamespaceInfo;
  /** The MCPServers of the cluster for the rules across objects; undefined until its watch has synced. */
  fleet(): Fleet | undefined;
}

/** What the server shares with its companion: the policy in force, the metrics and the log. */
export interface SharedWithCompanion {
  readonly policy: () => Policy;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

export type CompanionFactory = (shared: SharedWithCompanion) => Companion;

export interface RunningWebhookServer {
  readonly address: AddressInfo;
  readonly metricsAddress: AddressInfo | undefined;
  readonly certificate: ServingCertificate;
  readonly policy: Policy;
  /** Stops taking requests, finishes those in flight, and stops watching files. */
  shutdown(): Promise<void>;
}

/**
 * Starts the admission server: loads the policy and the certificate (their errors propagate,
 * so a broken start-up stops before listening), serves HTTPS, and keeps both up to date.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<RunningWebhookServer> {
  const { logger } = options;
  const metrics = new WebhookMetrics();
  const readiness = new Readiness();

  // Created before the policy watcher, which tells it of reloads; started once the server listens.
  let audit: Companion | undefined;
  const policyWatcher = options.policyFile && watchPolicy(options.policyFile, options, metrics, () => audit?.policyReloaded());
  const policy = policyWatcher ? await policyWatcher.start() : Policy.builtIn();
  const currentPolicy = policyWatcher ? () => policyWatcher.current() : () => policy;
  readiness.loaded('policy');
  audit = options.audit?.({ policy: currentPolicy, metrics, logger });

  let httpsServer: HttpsServer | undefined;
  const certificateWatcher = new CertificateWatcher(options.certDir, {
    pollIntervalMs: options.pollIntervalMs,
    onReload: (result, certificate, error) => {
      metrics.certificateReloads.inc({ result });
      if (!certificate) {
        logger.error({ event: 'certificate-reload', result, error: errorFields(error) }, 'changed serving certificate refused; the previous one stays in use');
        return;
      }
      // New connections get the new certificate; open ones go on with the one they began with.
      httpsServer?.setSecureContext(secureContextOptions(certificate, options.clientCa));
      metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
      logger.info({ event: 'certificate-reload', result, fingerprint: certificate.fingerprint, notAfter: certificate.notAfter }, 'serving certificate reloaded');
    },
  });
  const stopWatching = (): void => {
    certificateWatcher.stop();
    policyWatcher?.stop();
  };

  const servers: Server[] = [];
  try {
    const certificate = certificateWatcher.start();
    metrics.certificateExpiry.set(certificate.notAfter.getTime() / 1000);
    readiness.loaded('certificates');

    const deps = {
      policy: currentPolicy,
      metrics,
      logger,
      readiness,
      drift: new SchemaDriftLog(logger, metrics),
      ...(audit ? { namespaceInfo: audit.namespaceInfo.bind(audit), fleet: audit.fleet.bind(audit) } : {}),
    };
    httpsServer = createTlsListener(createWebhookApp(deps), certificate, options.clientCa);
    servers.push(httpsServer);
    const address = await listen(httpsServer, options.port, options.host);
    let metricsAddress: AddressInfo | undefined;
    if (options.metricsPort !== undefined) {
      const metricsServer = createPlainListener(createOperationsApp(deps));
      servers.push(metricsServer);
      metricsAddress = await listen(metricsServer, options.metricsPort, options.host);
    }
    for (const server of servers) {
      // After start-up, a failure to accept a connection (out of file descriptors) is logged, not fatal.
      server.on('error', (error) => logger.error({ event: 'server-error', error: errorFields(error) }, 'the server could not accept a connection'));
    }
    // A client that fails the TLS handshake (an untrusted CA, no client certificate) is refused by
    // Node; its reason helps to debug a caBundle or --client-ca, and says nothing about a secret.
    httpsServer.on('tlsClientError', (error: NodeJS.ErrnoException) => logger.debug({ event: 'tls-error', code: error.code }, 'TLS handshake failed'));
    // Auditing is best effort: it starts after the server listens and never holds admission up.
    audit?.start();
    return {
      address,
      metricsAddress,
      certificate,
      policy,
      shutdown: async () => {
        readiness.drain();
        stopWatching();
        await Promise.all([closeGracefully(servers, options.shutdownGraceMs), audit && stopAudit(audit, options.shutdownGraceMs, logger)]);
      },
    };
  } catch (error) {
    stopWatching();
    await closeGracefully(servers, 0);
    throw error;
  }
}

function watchPolicy(
  file: NonNullable<WebhookServerOptions['policyFile']>,
  { logger, pollIntervalMs }: WebhookServerOptions,
  metrics: WebhookMetrics,
  onNewPolicy: () => void,
): PolicyWatcher {
  return new PolicyWatcher(file.path, {
    load: file.load,
    pollIntervalMs,
    onReload: (result, policy, error) => {
      metrics.policyReloads.inc({ result });
      if (!policy) {
        logger.error({ event: 'policy-reload', result, error: errorFields(error) }, 'changed policy file refused; the previous policy stays in force');
        return;
      }
      logger.info({ event: 'policy-reload', result, source: policy.source }, `policy reloaded from ${policy.source}`);
      onNewPolicy();
    },
  });
}

/** Releases the Lease within the grace period; an API server that does not answer is not waited for longer. */
async function stopAudit(audit: Companion, graceMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([audit.stop().then(() => 'stopped' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'late') logger.warn({ event: 'audit-stop-timeout' }, 'the continuous audit did not stop within the grace period; its Lease expires on its own');
}
