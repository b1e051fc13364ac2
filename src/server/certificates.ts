/**
 * The webhook's serving certificate: loaded from a directory laid out like a kubernetes.io/tls
 * Secret volume (tls.crt, tls.key and, from cert-manager, ca.crt), checked before it is used,
 * reloaded when the Secret rotates, and for local development generated on first start.
 */
import { X509Certificate, createHash, createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { promisify } from 'node:util';
import type { ReloadResult } from '../telemetry/vocabulary.js';
import { watchDirectory } from './directory-watch.js';
import {
  canSignWith,
  createAuthorityCertificate,
  createServerCertificate,
  isCertificateHost,
  type Authority,
} from './dev-certificates.js';

export interface ServingCertificate {
  /** PEM, the leaf first; may hold the chain after it. */
  readonly cert: string;
  /** PEM. */
  readonly key: string;
  /** PEM, from ca.crt when present. */
  readonly ca?: string;
  /** Expiry of the leaf certificate. */
  readonly notAfter: Date;
  /** SHA-256 fingerprint of the leaf, for logs. */
  readonly fingerprint: string;
}

/**
 * A certificate file that is missing, unreadable, broken, mismatched or out of date. The message
 * is one sentence that names the file and how to fix it, and never holds key material.
 */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

const CERT_FILE = 'tls.crt';
const KEY_FILE = 'tls.key';
const CA_FILE = 'ca.crt';
const CA_KEY_FILE = 'ca.key';

/** What a message about a pair of files tells people to do. */
interface Remedy {
  /** When one of the files does not exist. */
  readonly missing: string;
  /** When a file exists but cannot be used. */
  readonly replace: string;
}

function servingRemedy(dir: string): Remedy {
  return {
    missing: `mount a kubernetes.io/tls Secret at ${dir} or start with --dev-certs to generate a development certificate there`,
    replace: `replace ${CERT_FILE} and ${KEY_FILE} in ${dir} with a matching, current pair (a kubernetes.io/tls Secret holds one), or delete both and start with --dev-certs`,
  };
}

function authorityRemedy(dir: string): Remedy {
  return {
    missing: `keep ${CA_FILE} and ${CA_KEY_FILE} together in ${dir}, or delete both so that a new development CA is created`,
    replace: `delete ${CA_FILE} and ${CA_KEY_FILE} in ${dir} so that a new development CA is created`,
  };
}

/** The file's text, or undefined when it does not exist. */
function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    if (code === 'ENOENT') return undefined;
    throw new CertificateError(`${file} cannot be read (${code}); make it readable for the user the webhook runs as.`);
  }
}

function readPem(file: string, remedy: Remedy): string {
  const text = readIfPresent(file);
  if (text === undefined) throw new CertificateError(`${file} does not exist; ${remedy.missing}.`);
  return text;
}

function parseCertificate(file: string, pem: string, remedy: Remedy): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CertificateError(`${file} does not hold a PEM-encoded X.509 certificate; ${remedy.replace}.`);
  }
}

function parsePrivateKey(file: string, pem: string, remedy: Remedy): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    // Recognised by its PEM headers (PKCS #8, then traditional): OpenSSL's error codes for this vary by version.
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|^Proc-Type: 4,ENCRYPTED$/m.test(pem)) {
      throw new CertificateError(
        `${file} is encrypted with a passphrase; store the key unencrypted, as kubernetes.io/tls Secrets do.`,
      );
    }
    throw new CertificateError(`${file} does not hold a PEM-encoded private key; ${remedy.replace}.`);
  }
}

function checkKeyMatches(
  certificate: X509Certificate,
  certFile: string,
  key: KeyObject,
  keyFile: string,
  remedy: Remedy,
): void {
  if (!certificate.checkPrivateKey(key)) {
    throw new CertificateError(
      `${keyFile} is not the private key of the certificate in ${certFile}; ${remedy.replace}.`,
    );
  }
}

/** Returns the certificate's expiry. */
function checkValidNow(certificate: X509Certificate, file: string, remedy: Remedy): Date {
  const now = Date.now();
  const notBefore = new Date(certificate.validFrom);
  const notAfter = new Date(certificate.validTo);
  if (notAfter.getTime() < now) {
    throw new CertificateError(`${file} expired on ${notAfter.toISOString()}; ${remedy.replace}.`);
  }
  if (notBefore.getTime() > now) {
    throw new CertificateError(
      `${file} is not valid before ${notBefore.toISOString()}; check this machine's clock, or ${remedy.replace}.`,
    );
  }
  return notAfter;
}

/** The files of a serving certificate as read, before any check. */
interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | undefined;
}

function readCertificateFiles(dir: string): CertificateFiles {
  const remedy = servingRemedy(dir);
  return {
    cert: readPem(join(dir, CERT_FILE), remedy),
    key: readPem(join(dir, KEY_FILE), remedy),
    ca: readIfPresent(join(dir, CA_FILE)),
  };
}

function checkServingCertificate(dir: string, files: CertificateFiles): ServingCertificate {
  const remedy = servingRemedy(dir);
  const certFile = join(dir, CERT_FILE);
  const keyFile = join(dir, KEY_FILE);
  const certificate = parseCertificate(certFile, files.cert, remedy);
  checkKeyMatches(certificate, certFile, parsePrivateKey(keyFile, files.key, remedy), keyFile, remedy);
  const notAfter = checkValidNow(certificate, certFile, remedy);
  if (files.ca !== undefined) {
    const caFile = join(dir, CA_FILE);
    parseCertificate(caFile, files.ca, {
      ...remedy,
      replace: `replace ${caFile} with the certificate of the CA that issued ${CERT_FILE}, or delete it`,
    });
  }
  try {
    // What the server will do with them; this also applies OpenSSL's rules, such as minimum key sizes.
    createSecureContext({ cert: files.cert, key: files.key, ca: files.ca });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CertificateError(`${certFile} and ${keyFile} cannot be used for TLS (${reason}); ${remedy.replace}.`);
  }
  return { cert: files.cert, key: files.key, ca: files.ca, notAfter, fingerprint: certificate.fingerprint256 };
}

/**
 * Reads and checks dir/tls.crt, dir/tls.key and, when present, dir/ca.crt: each must parse, the
 * key must belong to the certificate, and the certificate must be valid now. Throws CertificateError.
 */
export function loadServingCertificate(dir: string): ServingCertificate {
  return checkServingCertificate(dir, readCertificateFiles(dir));
}

/** DNS names and IP addresses every development certificate is for. */
const DEV_CERTIFICATE_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const DAY_MS = 24 * 60 * 60 * 1000;
const SERVER_CERTIFICATE_DAYS = 365;
const AUTHORITY_DAYS = 10 * 365;
/** Certificates start an hour early, for clocks that run slightly behind (a VM, a kind node). */
const BACKDATE_MS = 60 * 60 * 1000;

const generateEcKeyPair = promisify(generateKeyPair);

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Writes a fresh file (never through an old one or a symlink), so that its mode is exactly `mode`. */
/** The hosts a certificate file does not name (as a DNS name or an IP address); all of them when it cannot be read. */
function hostsNotCovered(certificateFile: string, hosts: readonly string[]): string[] {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(certificateFile));
  } catch {
    return [...hosts];
  }
  return hosts.filter((host) => (isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host, { subject: 'never' })) === undefined);
}

async function writeNewFile(file: string, contents: string, mode: number): Promise<void> {
  try {
    await rm(file, { force: true });
    await writeFile(file, contents, { mode, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new CertificateError(
      `${file} cannot be written (${code}); choose a writable directory for development certificates.`,
    );
  }
}

function loadAuthority(dir: string): Authority {
  const remedy = authorityRemedy(dir);
  const caFile = join(dir, CA_FILE);
  const caKeyFile = join(dir, CA_KEY_FILE);
  const certificate = parseCertificate(caFile, readPem(caFile, remedy), remedy);
  const key = parsePrivateKey(caKeyFile, readPem(caKeyFile, remedy), remedy);
  if (!canSignWith(key)) {
    throw new CertificateError(
      `${caKeyFile} holds a key of type ${key.asymmetricKeyType}, but only EC and RSA CAs can sign here; ${remedy.replace}.`,
    );
  }
  checkKeyMatches(certificate, caFile, key, caKeyFile, remedy);
  if (!certificate.ca) throw new CertificateError(`${caFile} is not a CA certificate; ${remedy.replace}.`);
  checkValidNow(certificate, caFile, remedy);
  return { certificate, key };
}

async function createAuthority(dir: string): Promise<Authority> {
  const { privateKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const validity = { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + AUTHORITY_DAYS * DAY_MS) };
  const certificate = await createAuthorityCertificate(
    `mcpserver-webhook development CA (${hostname()})`,
    privateKey,
    validity,
  );
  await writeNewFile(join(dir, CA_KEY_FILE), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  await writeNewFile(join(dir, CA_FILE), certificate.toString(), 0o644);
  return { certificate, key: privateKey };
}

/**
 * Makes sure dir holds a serving certificate for local development. When tls.crt or tls.key is
 * missing, it writes a new pair for localhost, 127.0.0.1, ::1 and `options.hosts`, valid for a
 * year and signed by the CA in ca.crt and ca.key, creating that CA first if neither file exists
 * (the CA is kept so that clients trust every later certificate too). Does nothing when both
 * tls.crt and tls.key exist. Throws CertificateError.
 */
export async function ensureDevCertificates(
  dir: string,
  options: { hosts?: string[] } = {},
): Promise<{ created: boolean; caFile: string }> {
  const caFile = join(dir, CA_FILE);
  const hosts = [...new Set([...DEV_CERTIFICATE_HOSTS, ...(options.hosts ?? [])])];
  if ((await exists(join(dir, CERT_FILE))) && (await exists(join(dir, KEY_FILE)))) {
    // A certificate already there is kept unless it lacks a host asked for: silently keeping it
    // would leave the cluster to fail on an x509 error at its first call.
    const uncovered = hostsNotCovered(join(dir, CERT_FILE), options.hosts ?? []);
    if (uncovered.length === 0) return { created: false, caFile };
    if (!(await exists(join(dir, CA_KEY_FILE)))) {
      throw new CertificateError(
        `${join(dir, CERT_FILE)} is not valid for ${uncovered.join(', ')}, and without the development CA's key (${join(dir, CA_KEY_FILE)}) no certificate can be made for it; bring a certificate for those names, or remove ${CERT_FILE} and ${KEY_FILE} from ${dir} for new development ones.`,
      );
    }
  }

  const invalid = hosts.find((host) => !isCertificateHost(host));
  if (invalid !== undefined) {
    throw new CertificateError(
      `${JSON.stringify(invalid)} is neither a DNS name nor an IP address, so no certificate can be made for it; pass names such as host.docker.internal or addresses such as 10.0.0.5.`,
    );
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new CertificateError(
      `${dir} cannot be created (${code}); choose a writable directory for development certificates.`,
    );
  }

  const authority =
    (await exists(caFile)) || (await exists(join(dir, CA_KEY_FILE))) ? loadAuthority(dir) : await createAuthority(dir);
  const { privateKey, publicKey } = await generateEcKeyPair('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const notAfter = Math.min(now + SERVER_CERTIFICATE_DAYS * DAY_MS, new Date(authority.certificate.validTo).getTime());
  const certificate = await createServerCertificate(hosts, publicKey, authority, {
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(notAfter),
  });
  if (!certificate.checkIssued(authority.certificate) || !certificate.verify(authority.certificate.publicKey)) {
    // Only possible with a CA brought from elsewhere, for example one whose key usage forbids signing.
    throw new CertificateError(`${caFile} cannot sign development certificates; ${authorityRemedy(dir).replace}.`);
  }
  await writeNewFile(join(dir, KEY_FILE), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  await writeNewFile(join(dir, CERT_FILE), certificate.toString(), 0o644);
  return { created: true, caFile };
}


export interface CertificateWatcherOptions {
  /** How often to look at the files, in case fs.watch misses a change; 2 s by default. */
  readonly pollIntervalMs?: number;
  /**
   * Told about every change: the new certificate, or why the files cannot be used (the current
   * certificate then stays). Called from timers and fs.watch, so it must not throw.
   */
  readonly onReload: (
    result: ReloadResult,
    certificate: ServingCertificate | undefined,
    error: CertificateError | undefined,
  ) => void;
}

const DEFAULT_POLL_INTERVAL_MS = 2000;
/** Files change in several steps (a Secret volume swaps directories, editors write then rename); wait until they settle. */
const SETTLE_MS = 200;

/** What the files held at one moment: their digest, to notice a change, and their contents or why they cannot be read. */
interface Snapshot {
  readonly digest: string;
  readonly files: CertificateFiles | CertificateError;
}

function takeSnapshot(dir: string): Snapshot {
  try {
    const files = readCertificateFiles(dir);
    const digest = createHash('sha256')
      .update(JSON.stringify([files.cert, files.key, files.ca]))
      .digest('hex');
    return { digest, files };
  } catch (error) {
    if (!(error instanceof CertificateError)) throw error;
    return { digest: `unreadable: ${error.message}`, files: error };
  }
}

/** The certificate a snapshot holds, or why it holds none. */
function certificateIn(dir: string, snapshot: Snapshot): ServingCertificate | CertificateError {
  if (snapshot.files instanceof CertificateError) return snapshot.files;
  try {
    return checkServingCertificate(dir, snapshot.files);
  } catch (error) {
    if (error instanceof CertificateError) return error;
    throw error;
  }
}

/**
 * Keeps the serving certificate current as the files in a directory change. A Kubernetes Secret
 * volume updates by swapping its `..data` symlink, so this watches the directory, not the files,
 * and compares contents rather than modification times. fs.watch misses changes on some
 * filesystems (and changes behind symlinks), so it also polls. Nothing here keeps the process alive.
 */
export class CertificateWatcher {
  private readonly pollIntervalMs: number;
  private readonly onReload: CertificateWatcherOptions['onReload'];
  private certificate: ServingCertificate | undefined;
  private observedDigest = '';
  private stopWatching: (() => void) | undefined;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    options: CertificateWatcherOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (!(this.pollIntervalMs > 0 && Number.isFinite(this.pollIntervalMs))) {
      throw new RangeError(`pollIntervalMs must be a positive number of milliseconds, not ${this.pollIntervalMs}.`);
    }
    this.onReload = options.onReload;
  }

  /** Loads the certificate (throws CertificateError) and starts watching. */
  start(): ServingCertificate {
    if (this.certificate) throw new Error('CertificateWatcher.start() was already called.');
    const snapshot = takeSnapshot(this.dir);
    const certificate = certificateIn(this.dir, snapshot);
    if (certificate instanceof CertificateError) throw certificate;
    this.certificate = certificate;
    this.observedDigest = snapshot.digest;
    this.stopWatching = watchDirectory(this.dir, () => this.observe(), this.pollIntervalMs);
    return this.certificate;
  }

  current(): ServingCertificate {
    if (!this.certificate) throw new Error('CertificateWatcher.start() has not been called.');
    return this.certificate;
  }

  stop(): void {
    this.stopWatching?.();
    clearTimeout(this.settleTimer);
    this.stopWatching = undefined;
    this.settleTimer = undefined;
  }

  /** Looks at the files; a change (re)starts the wait for them to settle. */
  private observe(): void {
    const snapshot = takeSnapshot(this.dir);
    if (snapshot.digest === this.observedDigest) return;
    this.observedDigest = snapshot.digest;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.reload(snapshot), SETTLE_MS).unref();
  }

  private reload(snapshot: Snapshot): void {
    this.settleTimer = undefined;
    const certificate = certificateIn(this.dir, snapshot);
    if (certificate instanceof CertificateError) {
      this.onReload('failure', undefined, certificate);
      return;
    }
    this.certificate = certificate;
    this.onReload('success', certificate, undefined);
  }
}
