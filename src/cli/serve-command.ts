import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { CertificateError, ensureDevCertificates } from '../server/certificates.js';
import { LOG_LEVELS, createLogger, type LogLevel, type Logger } from '../telemetry/logger.js';
import type { ConnectOptions } from '../cluster/connection.js';
import { DEFAULT_WRITE_LIMIT, type RateLimit } from '../cluster/rate-limiter.js';
import { startWebhookServer, type CompanionFactory, type RunningWebhookServer } from '../server/webhook-server.js';
import { EXIT, UsageError, type CliIO } from './io.js';
import { loadPolicyFile } from './policy-file.js';

export const SERVE_USAGE = `Usage: mcpserver-webhook serve [options]

Runs the validating admission webhook: HTTPS, POST /validate takes an AdmissionReview
(admission.k8s.io/v1 or v1beta1) for MCPServer resources, POST /v1/verdict an MCPServer (for
the reconciler). Each option can also be set by the environment variable in brackets; the
option wins.

Options:
      --port N              HTTPS port (PORT); default 8443, 0 picks a free port
      --host ADDRESS        address to listen on (HOST), e.g. 127.0.0.1 for this machine only;
                            default every interface (npm start: 127.0.0.1)
      --cert-dir DIR        folder with tls.crt, tls.key and maybe ca.crt (CERT_DIR); default certs
      --dev-certs           create a development CA and certificate in the cert folder if missing
      --dev-cert-host NAME  one more DNS name or IP address for a new development certificate,
                            e.g. host.minikube.internal; repeatable (DEV_CERT_HOSTS, comma-separated)
      --client-ca FILE      require client certificates signed by this CA (CLIENT_CA_FILE)
      --policy FILE         policy file, reloaded when it changes (POLICY_FILE); default built-in
      --metrics-port N      also serve /metrics, /healthz and /readyz over plain HTTP (METRICS_PORT)
      --log-level LEVEL     ${LOG_LEVELS.join(', ')} (LOG_LEVEL); default info
      --shutdown-grace S    seconds to finish requests in flight on SIGTERM (SHUTDOWN_GRACE_SECONDS); default 20
      --audit               keep judging the MCPServers in the cluster: PolicyReports, Events and
                            metrics; the replica holding a Lease writes (AUDIT=true); default off
      --audit-namespace NS  namespace of the audit's Lease (POD_NAMESPACE); default the pod's, else default
      --audit-qps N         the audit's writes (PolicyReports, Events) a second, on average, as client-go's
                            QPS (AUDIT_QPS); default ${DEFAULT_WRITE_LIMIT.qps}
      --audit-burst N       the audit's writes at once after a quiet while, as client-go's Burst
                            (AUDIT_BURST); default ${DEFAULT_WRITE_LIMIT.burst}
      --fleet               keep the MCPServers of the cluster in view from a watch, so that the rules
                            across objects (family-consistency, tool-prefix-collision) judge each
                            write against the others (FLEET=true); --audit does too; default off
      --watch-secrets       also watch the Secrets' metadata, never their data, for referenced-secret
                            (WATCH_SECRETS=true); implies --fleet; default off
      --kubeconfig FILE     kubeconfig for --audit or --fleet outside a cluster; default $KUBECONFIG,
                            else the pod's service account when in a pod, else ~/.kube/config
      --exit-with-parent    stop, as on SIGTERM, when the process that started this one exits
                            (npm start sets it, so that stopping npm stops the server)
  -h, --help                show this help

Exit status: 0 after a clean shutdown, 2 when it cannot start (the message says why).
`;

const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** How often certificate and policy files are looked at when no file-system event arrives. */
const POLL_INTERVAL_MS = 2000;

interface ServeConfiguration {
  readonly port: number;
  readonly host: string | undefined;
  readonly certDir: string;
  readonly devCerts: boolean;
  readonly devCertHosts: string[];
  readonly clientCaFile: string | undefined;
  readonly policyFile: string | undefined;
  readonly metricsPort: number | undefined;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  readonly audit: boolean;
  readonly auditNamespace: string | undefined;
  readonly auditWriteLimit: RateLimit;
  /** The fleet view for admission: from the audit's watch, or a watch of its own. */
  readonly fleet: boolean;
  readonly watchSecrets: boolean;
  readonly kubeconfig: string | undefined;
  readonly exitWithParent: boolean;
}

function parseServeArguments(args: string[], env: NodeJS.ProcessEnv): ServeConfiguration | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'cert-dir': { type: 'string' },
        'dev-certs': { type: 'boolean' },
        'dev-cert-host': { type: 'string', multiple: true },
        'client-ca': { type: 'string' },
        policy: { type: 'string' },
        'metrics-port': { type: 'string' },
        'log-level': { type: 'string' },
        'shutdown-grace': { type: 'string' },
        audit: { type: 'boolean' },
        'audit-namespace': { type: 'string' },
        'audit-qps': { type: 'string' },
        'audit-burst': { type: 'string' },
        fleet: { type: 'boolean' },
        'watch-secrets': { type: 'boolean' },
        kubeconfig: { type: 'string' },
        'exit-with-parent': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  // Values are never quoted back: an environment variable may have been set by mistake to a secret.
  const setting = (option: string | undefined, variable: string): string | undefined => option ?? (env[variable] || undefined);
  const logLevel = setting(values['log-level'], 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) throw new UsageError(`--log-level (LOG_LEVEL) must be one of ${LOG_LEVELS.join(', ')}`);
  const metricsPort = setting(values['metrics-port'], 'METRICS_PORT');
  const audit = values.audit ?? booleanSetting(env.AUDIT, 'AUDIT');
  const watchSecrets = values['watch-secrets'] ?? booleanSetting(env.WATCH_SECRETS, 'WATCH_SECRETS');
  const fleet = audit || watchSecrets || (values.fleet ?? booleanSetting(env.FLEET, 'FLEET'));
  for (const flag of ['audit-namespace', 'kubeconfig'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} needs a value`);
  }
  for (const flag of ['audit-namespace', 'audit-qps', 'audit-burst'] as const) {
    if (values[flag] !== undefined && !audit) throw new UsageError(`--${flag} is used only with --audit`);
  }
  if (values.kubeconfig !== undefined && !fleet) throw new UsageError('--kubeconfig is used only with --audit or --fleet');
  return {
    port: portNumber(setting(values.port, 'PORT') ?? '8443', '--port (PORT)'),
    host: setting(values.host, 'HOST'),
    certDir: setting(values['cert-dir'], 'CERT_DIR') ?? 'certs',
    devCerts: values['dev-certs'] === true,
    devCertHosts: values['dev-cert-host'] ?? (env.DEV_CERT_HOSTS ?? '').split(',').map((host) => host.trim()).filter(Boolean),
    clientCaFile: setting(values['client-ca'], 'CLIENT_CA_FILE'),
    policyFile: setting(values.policy, 'POLICY_FILE'),
    metricsPort: metricsPort === undefined ? undefined : portNumber(metricsPort, '--metrics-port (METRICS_PORT)'),
    logLevel: logLevel as LogLevel,
    shutdownGraceMs: seconds(setting(values['shutdown-grace'], 'SHUTDOWN_GRACE_SECONDS') ?? '20', '--shutdown-grace (SHUTDOWN_GRACE_SECONDS)') * 1000,
    audit,
    auditNamespace: setting(values['audit-namespace'], 'POD_NAMESPACE'),
    auditWriteLimit: {
      qps: positiveNumber(setting(values['audit-qps'], 'AUDIT_QPS') ?? String(DEFAULT_WRITE_LIMIT.qps), '--audit-qps (AUDIT_QPS)'),
      burst: Math.floor(positiveNumber(setting(values['audit-burst'], 'AUDIT_BURST') ?? String(DEFAULT_WRITE_LIMIT.burst), '--audit-burst (AUDIT_BURST)')),
    },
    fleet,
    watchSecrets,
    kubeconfig: values.kubeconfig,
    exitWithParent: values['exit-with-parent'] === true,
  };
}

function booleanSetting(value: string | undefined, variable: string): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new UsageError(`${variable} must be true or false`);
}

function portNumber(text: string, name: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${name} must be a port number from 0 to 65535`);
  return port;
}

function positiveNumber(text: string, name: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value >= 1) || value > 100_000) throw new UsageError(`${name} must be a number from 1 to 100000`);
  return value;
}

function seconds(text: string, name: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value > 3600) throw new UsageError(`${name} must be a number of seconds from 0 to 3600`);
  return value;
}

export async function runServe(args: string[], io: CliIO): Promise<number> {
  const config = parseServeArguments(args, io.env);
  if (config === 'help') {
    io.stdout.write(SERVE_USAGE);
    return EXIT.ok;
  }
  const logger = createLogger(config.logLevel, io.stdout);
  if (config.devCerts) await provideDevCertificates(config, logger);
  const clientCa = config.clientCaFile === undefined ? undefined : await readClientCa(config.clientCaFile);

  let server: RunningWebhookServer;
  try {
    server = await startWebhookServer({
      host: config.host,
      port: config.port,
      certDir: config.certDir,
      clientCa,
      metricsPort: config.metricsPort,
      policyFile: config.policyFile === undefined ? undefined : { path: config.policyFile, load: loadPolicyFile },
      pollIntervalMs: POLL_INTERVAL_MS,
      shutdownGraceMs: config.shutdownGraceMs,
      logger,
      audit: config.audit ? await continuousAudit(config, io.env) : config.fleet ? await watchedFleet(config, io.env) : undefined,
    });
  } catch (error) {
    throw startUpError(error, config);
  }

  const url = `https://${hostForUrl(server.address)}:${server.address.port}/validate`;
  const interfaces = listeningInterfaces(server.address);
  logger.info(
    {
      event: 'listening',
      url,
      port: server.address.port,
      interfaces,
      ...(server.metricsAddress ? { metricsPort: server.metricsAddress.port } : {}),
      policy: server.policy.source,
      certificate: { fingerprint: server.certificate.fingerprint, notAfter: server.certificate.notAfter },
      clientCertificates: clientCa !== undefined,
    },
    `mcpserver-webhook listening on ${url} (${INTERFACE_WORDS[interfaces]}; policy: ${server.policy.source}, certificates: ${config.certDir})`,
  );

  const stop = await nextStop(config.exitWithParent);
  if (stop === 'parent-exited') {
    logger.info({ event: 'shutdown', cause: stop }, 'the process that started the server has exited: finishing requests in flight, then stopping');
  } else {
    logger.info({ event: 'shutdown', signal: stop }, `${stop} received: finishing requests in flight, then stopping`);
  }
  await server.shutdown();
  logger.info({ event: 'stopped' }, 'stopped');
  return EXIT.ok;
}

/**
 * The audit's Lease lives in the pod's namespace: POD_NAMESPACE from the downward API, else the
 * service account's namespace file every pod has, else `default` outside a cluster. The holder is
 * the pod's name (POD_NAME), else this host and process.
 */
async function continuousAudit(config: ServeConfiguration, env: NodeJS.ProcessEnv): Promise<CompanionFactory> {
  const { AuditThread } = await import('../audit/audit-thread.js');
  const podNamespace = await readFile(SERVICE_ACCOUNT_NAMESPACE_FILE, 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  const settings = {
    connect: connectOptions(config, env),
    identity: env.POD_NAME || `${hostname()}_${process.pid}`,
    leaseNamespace: config.auditNamespace ?? podNamespace ?? 'default',
    watchSecrets: config.watchSecrets,
    writeLimit: config.auditWriteLimit,
  };
  return (shared) => new AuditThread({ ...settings, ...shared });
}

/** The fleet view alone (--fleet without --audit): the watch, without the audit's judging and writes. */
async function watchedFleet(config: ServeConfiguration, env: NodeJS.ProcessEnv): Promise<CompanionFactory> {
  // Loaded here, not at the top: only the fleet view and the audit need the cluster layer.
  const [{ connect }, { WatchedFleet }] = await Promise.all([import('../cluster/connection.js'), import('../cluster/watched-fleet.js')]);
  const options = connectOptions(config, env);
  return ({ metrics, logger }) => new WatchedFleet({ connect: () => connect(options), watchSecrets: config.watchSecrets, metrics, logger });
}

/** How the audit and the fleet view find their credentials. */
function connectOptions(config: ServeConfiguration, env: NodeJS.ProcessEnv): ConnectOptions {
  return { env, ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}) };
}

async function provideDevCertificates(config: ServeConfiguration, logger: Logger): Promise<void> {
  let result;
  try {
    result = await ensureDevCertificates(config.certDir, { hosts: config.devCertHosts });
  } catch (error) {
    throw startUpError(error, config);
  }
  // Certificates brought by the user may come without the CA that signed them.
  const caKnown = result.created || existsSync(result.caFile);
  const where = result.created ? `created a development certificate in ${config.certDir}` : `using the certificate already in ${config.certDir}`;
  logger.info(
    { event: 'dev-certificates', created: result.created, ...(caKnown ? { caFile: result.caFile } : {}) },
    caKnown ? `${where}; its CA is ${result.caFile} (for a caBundle: base64 < ${result.caFile} | tr -d '\\n')` : where,
  );
}

async function readClientCa(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --client-ca file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unknown error'}`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new UsageError(`--client-ca file ${file} does not hold a PEM-encoded CA certificate`);
  }
  return pem;
}

/** A start-up failure in one line that says what to do; anything unexpected goes up as it is. */
function startUpError(error: unknown, config: ServeConfiguration): unknown {
  if (error instanceof CertificateError || error instanceof UsageError) return new UsageError(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${config.host ?? 'every interface'}, port ${config.port}`;
  if (code === 'EADDRINUSE') return new UsageError(`cannot listen on ${where}: the port is in use; choose another with --port`);
  if (code === 'EACCES') return new UsageError(`cannot listen on ${where}: permission denied; use a port above 1023`);
  if (code === 'EADDRNOTAVAIL') return new UsageError(`cannot listen on ${where}: no interface has that address; check --host`);
  return error;
}

function hostForUrl({ address, family }: AddressInfo): string {
  return family === 'IPv6' ? `[${address}]` : address;
}

type Interfaces = 'every' | 'every-ipv4' | 'loopback' | 'one';

const INTERFACE_WORDS: Readonly<Record<Interfaces, string>> = {
  every: 'every interface: reachable from other machines',
  'every-ipv4': 'every IPv4 interface: reachable from other machines',
  loopback: 'loopback only: reachable from this machine alone',
  one: 'this address only',
};

/** Which interfaces a listening address covers: `::` is every one (it takes IPv4 too), `0.0.0.0` every IPv4 one. */
function listeningInterfaces({ address }: AddressInfo): Interfaces {
  if (address === '::') return 'every';
  if (address === '0.0.0.0') return 'every-ipv4';
  if (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')) return 'loopback';
  return 'one';
}

/** How often the parent is looked at with --exit-with-parent: a stopped npm frees the port within this. */
const PARENT_POLL_MS = 500;

/**
 * Resolves with the signal that asks the server to stop, or, with `watchParent`, with
 * `parent-exited` once the process that started it has gone (an orphan is handed to another
 * parent, so its parent process ID changes). This does not rely on the parent passing signals
 * on: npm passes SIGTERM and SIGINT to the shell it runs a script in, which may not pass them
 * further, and nothing passes on a SIGKILL.
 */
function nextStop(watchParent: boolean): Promise<NodeJS.Signals | 'parent-exited'> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const timer = watchParent ? setInterval(() => process.ppid !== parent && stop('parent-exited'), PARENT_POLL_MS).unref() : undefined;
    const stop = (reason: NodeJS.Signals | 'parent-exited'): void => {
      clearInterval(timer);
      resolve(reason);
    };
    // The listeners stay for the whole shutdown: a Ctrl-C reaches the server twice under npm
    // (from the terminal, and passed on by npm), and the second must not end it half-way.
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
