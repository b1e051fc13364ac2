import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Policy } from '../engine/index.js';
import type { ClusterConnection } from '../audit/cluster.js';
import type { AuditTiming, ContinuousAudit } from '../audit/continuous-audit.js';
import { createOperationsApp, createWebhookApp } from './app.js';
import { CertificateWatcher, type ServingCertificate } from './certificates.js';
import { closeGracefully, createPlainListener, createTlsListener, listen, secureContextOptions } from './listeners.js';
import { errorFields, type Logger } from './logger.js';
import { WebhookMetrics } from './metrics.js';
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
  /** The continuous audit (`--audit`), or undefined for none. */
  readonly audit: AuditSettings | undefined;
}

export interface AuditSettings {
  /** Finds the credentials (the pod's service account, or a kubeconfig); may throw a ClusterError. */
  readonly connect: () => ClusterConnection;
  /** This replica's name in the Lease and in the events it writes. */
  readonly identity: string;
  /** The namespace of the Lease. */
  readonly leaseNamespace: string;
  /** Shorter waits for tests; the defaults are client-go's. */
  readonly timing?: AuditTiming;
}

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
  let audit: ContinuousAudit | undefined;
  const policyWatcher = options.policyFile && watchPolicy(options.policyFile, options, metrics, () => audit?.policyReloaded());
  const policy = policyWatcher ? await policyWatcher.start() : Policy.builtIn();
  const currentPolicy = policyWatcher ? () => policyWatcher.current() : () => policy;
  readiness.loaded('policy');
  audit = options.audit && (await createAudit(options.audit, currentPolicy, metrics, logger));

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

    const deps = { policy: currentPolicy, metrics, logger, readiness, ...(audit ? { namespaceInfo: audit.namespaceInfo.bind(audit) } : {}) };
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

/** Loaded only with --audit: the Kubernetes client adds half a second to a start without it. */
async function createAudit(settings: AuditSettings, policy: () => Policy, metrics: WebhookMetrics, logger: Logger): Promise<ContinuousAudit> {
  const { ContinuousAudit } = await import('../audit/continuous-audit.js');
  return new ContinuousAudit({ ...settings, policy, metrics, logger });
}

/** Releases the Lease within the grace period; an API server that does not answer is not waited for longer. */
async function stopAudit(audit: ContinuousAudit, graceMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([audit.stop().then(() => 'stopped' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'late') logger.warn({ event: 'audit-stop-timeout' }, 'the continuous audit did not stop within the grace period; its Lease expires on its own');
}
