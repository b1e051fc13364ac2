import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CertificateError,
  CertificateWatcher,
  ensureDevCertificates,
  loadServingCertificate,
  type ServingCertificate,
} from '../../src/server/certificates.js';
import type { Authority } from '../../src/server/dev-certificates.js';
import type { ReloadResult } from '../../src/telemetry/vocabulary.js';
import { writeSecretVolume } from './secret-volume.js';
import { CURRENT, DAY_MS, newAuthority, pemOf, serverPair, validFor, type Pair } from './test-certificates.js';

const tempDirs: string[] = [];
const watchers: CertificateWatcher[] = [];

afterEach(async () => {
  for (const watcher of watchers.splice(0)) watcher.stop();
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpserver-webhook-certs-'));
  tempDirs.push(dir);
  return dir;
}

const EXPIRED = validFor(1, -3);
const NOT_YET_VALID = validFor(30, 2);

async function writePair(dir: string, pair: Pair): Promise<void> {
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
}

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Runs `action`, expects a CertificateError matching `pattern`, and checks the message is one safe sentence. */
async function expectCertificateError(
  action: () => unknown,
  pattern: RegExp,
  keys: readonly string[] = [],
): Promise<void> {
  const error: unknown = await Promise.resolve()
    .then(action)
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  expect(error).toBeInstanceOf(CertificateError);
  const { message } = error as CertificateError;
  expect(message).toMatch(pattern);
  expectOneSafeSentence(message, keys);
}

function expectOneSafeSentence(message: string, keys: readonly string[]): void {
  expect(message).not.toContain('\n');
  expect(message).toMatch(/\.$/);
  expect(message).not.toMatch(/PRIVATE KEY/);
  const keyLines = keys.flatMap((pem) =>
    pem.split('\n').filter((line) => line.length >= 16 && !line.startsWith('-----')),
  );
  for (const line of keyLines) expect(message).not.toContain(line.slice(0, 16));
}

interface ReloadEvent {
  readonly result: ReloadResult;
  readonly certificate: ServingCertificate | undefined;
  readonly error: CertificateError | undefined;
}

function startWatcher(
  dir: string,
  pollIntervalMs: number,
): { watcher: CertificateWatcher; events: ReloadEvent[]; initial: ServingCertificate } {
  const events: ReloadEvent[] = [];
  const watcher = new CertificateWatcher(dir, {
    pollIntervalMs,
    onReload: (result, certificate, error) => events.push({ result, certificate, error }),
  });
  watchers.push(watcher);
  return { watcher, events, initial: watcher.start() };
}

const NO_POLLING = 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitForEvents(events: readonly ReloadEvent[], count: number): Promise<void> {
  await vi.waitFor(() => expect(events).toHaveLength(count), { timeout: 5000, interval: 20 });
}

/** Serves `certificate` on 127.0.0.1 and completes a TLS handshake as a client trusting only `ca`. */
async function handshake(certificate: ServingCertificate, client: { ca: string; servername?: string }): Promise<void> {
  const server = createServer(certificate, (_request, response) => response.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(
        { host: '127.0.0.1', port, ca: client.ca, servername: client.servername, rejectUnauthorized: true },
        () => {
          socket.end();
          resolve();
        },
      );
      socket.on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('ensureDevCertificates', () => {
  it('creates a CA and a serving certificate for localhost, 127.0.0.1 and ::1, keys readable by the owner only', async () => {
    const dir = join(await tempDir(), 'certs');

    const { created, caFile } = await ensureDevCertificates(dir);

    expect(created).toBe(true);
    expect(caFile).toBe(join(dir, 'ca.crt'));
    const ca = new X509Certificate(readFileSync(caFile));
    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(dir, 'tls.key'))))).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(leaf.checkHost('example.com')).toBeUndefined();
    const yearsLeft = (new Date(leaf.validTo).getTime() - Date.now()) / (365 * DAY_MS);
    expect(yearsLeft).toBeGreaterThan(0.99);
    expect(yearsLeft).toBeLessThan(1.01);
    expect((await stat(join(dir, 'tls.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(loadServingCertificate(dir).fingerprint).toBe(leaf.fingerprint256);
  });

  it('does nothing when tls.crt and tls.key exist', async () => {
    const dir = await tempDir();
    await ensureDevCertificates(dir);
    const names = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'];
    const before = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));

    const second = await ensureDevCertificates(dir);

    expect(second).toEqual({ created: false, caFile: join(dir, 'ca.crt') });
    expect(await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')))).toEqual(before);
  });

  it('makes a new serving certificate, with the same CA, when the one there lacks a host asked for', async () => {
    const dir = await tempDir();
    await ensureDevCertificates(dir);
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');

    expect((await ensureDevCertificates(dir, { hosts: ['host.minikube.internal'] })).created).toBe(true);

    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(leaf.checkHost('host.minikube.internal')).toBe('host.minikube.internal');
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
    // Asked again, it has the host: nothing more to make.
    expect((await ensureDevCertificates(dir, { hosts: ['host.minikube.internal'] })).created).toBe(false);
  });

  it('says why when the certificate there lacks a host asked for and there is no CA key to make another', async () => {
    const dir = await tempDir();
    await ensureDevCertificates(dir);
    await rm(join(dir, 'ca.key'));
    await expect(ensureDevCertificates(dir, { hosts: ['10.0.0.5'] })).rejects.toThrow(/tls\.crt is not valid for 10\.0\.0\.5, and without the development CA's key .* no certificate can be made for it/);
  });

  it('signs a new serving certificate with the CA already there, so clients keep trusting it', async () => {
    const dir = await tempDir();
    await ensureDevCertificates(dir);
    const caBefore = await readFile(join(dir, 'ca.crt'), 'utf8');
    const leafBefore = await readFile(join(dir, 'tls.crt'), 'utf8');
    await rm(join(dir, 'tls.crt'));

    expect((await ensureDevCertificates(dir)).created).toBe(true);

    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(caBefore);
    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(leaf.fingerprint256).not.toBe(fingerprintOf(leafBefore));
    expect(leaf.verify(new X509Certificate(caBefore).publicKey)).toBe(true);
    expect(loadServingCertificate(dir).fingerprint).toBe(leaf.fingerprint256);
  });

  it('signs with an RSA CA that a developer brought (mkcert makes those)', async () => {
    const dir = await tempDir();
    const authority = await newAuthority('rsa');
    await writeFile(join(dir, 'ca.crt'), authority.certificate.toString());
    await writeFile(join(dir, 'ca.key'), pemOf(authority.key));

    await ensureDevCertificates(dir);

    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(leaf.checkIssued(authority.certificate)).toBe(true);
    expect(leaf.verify(authority.certificate.publicKey)).toBe(true);
  });

  it('adds the hosts it is given, and refuses one that is neither a DNS name nor an IP address', async () => {
    const dir = await tempDir();
    await ensureDevCertificates(dir, {
      hosts: ['host.docker.internal', '10.0.0.5', '2001:db8::7', '::ffff:192.0.2.1', 'localhost'],
    });
    const leaf = new X509Certificate(readFileSync(join(dir, 'tls.crt')));
    expect(leaf.checkHost('host.docker.internal')).toBe('host.docker.internal');
    expect(leaf.checkIP('10.0.0.5')).toBe('10.0.0.5');
    expect(leaf.checkIP('2001:db8::7')).toBe('2001:db8::7');
    expect(leaf.checkIP('::ffff:192.0.2.1')).toBe('::ffff:192.0.2.1');
    expect(leaf.checkHost('localhost')).toBe('localhost');

    const other = join(await tempDir(), 'certs');
    await expectCertificateError(
      () => ensureDevCertificates(other, { hosts: ['my host'] }),
      /^"my host" is neither a DNS name nor an IP address/,
    );
    expect(existsSync(other)).toBe(false);
  });

  it.each([
    {
      problem: 'ca.key is missing beside ca.crt',
      setUp: async (dir: string, authority: Authority) =>
        writeFile(join(dir, 'ca.crt'), authority.certificate.toString()),
      message: /ca\.key does not exist; keep ca\.crt and ca\.key together in .*, or delete both/,
    },
    {
      problem: 'ca.crt is not a CA certificate',
      setUp: async (dir: string, authority: Authority) => {
        const pair = await serverPair(authority);
        await writeFile(join(dir, 'ca.crt'), pair.cert);
        await writeFile(join(dir, 'ca.key'), pair.key);
      },
      message:
        /ca\.crt is not a CA certificate; delete ca\.crt and ca\.key in .* so that a new development CA is created\.$/,
    },
    {
      problem: 'ca.key holds a key type that cannot sign here',
      setUp: async (dir: string, authority: Authority) => {
        await writeFile(join(dir, 'ca.crt'), authority.certificate.toString());
        await writeFile(join(dir, 'ca.key'), pemOf(generateKeyPairSync('ed25519').privateKey));
      },
      message: /ca\.key holds a key of type ed25519, but only EC and RSA CAs can sign here; delete ca\.crt and ca\.key/,
    },
  ])('refuses to sign when $problem, and says how to fix it', async ({ setUp, message }) => {
    const dir = await tempDir();
    const authority = await newAuthority();
    await setUp(dir, authority);

    await expectCertificateError(() => ensureDevCertificates(dir), message, [pemOf(authority.key)]);
    expect(existsSync(join(dir, 'tls.crt'))).toBe(false);
    expect(existsSync(join(dir, 'tls.key'))).toBe(false);
  });

  it('says which directory it cannot create', async () => {
    const file = join(await tempDir(), 'a-file');
    await writeFile(file, '');
    await expectCertificateError(
      () => ensureDevCertificates(join(file, 'certs')),
      /a-file\/certs cannot be created \(ENOTDIR\); choose a writable directory/,
    );
  });
});

describe('serving a development certificate over TLS', () => {
  it('completes a handshake with a client that trusts ca.crt, by name and by IP address', async () => {
    const dir = await tempDir();
    const { caFile } = await ensureDevCertificates(dir);
    const ca = readFileSync(caFile, 'utf8');
    const certificate = loadServingCertificate(dir);

    await expect(handshake(certificate, { ca, servername: 'localhost' })).resolves.toBeUndefined();
    await expect(handshake(certificate, { ca })).resolves.toBeUndefined(); // checked against IP 127.0.0.1
  });

  it('fails the handshake for a client that trusts another CA, or asks for another name', async () => {
    const dir = await tempDir();
    const otherDir = await tempDir();
    const { caFile } = await ensureDevCertificates(dir);
    const { caFile: otherCaFile } = await ensureDevCertificates(otherDir);
    const certificate = loadServingCertificate(dir);

    await expect(
      handshake(certificate, { ca: readFileSync(otherCaFile, 'utf8'), servername: 'localhost' }),
    ).rejects.toMatchObject({
      code: 'SELF_SIGNED_CERT_IN_CHAIN', // the server sends ca.crt along, and the client trusts another root
    });
    await expect(
      handshake(certificate, { ca: readFileSync(caFile, 'utf8'), servername: 'example.com' }),
    ).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });
});

describe('loadServingCertificate', () => {
  it('returns the PEM files, the expiry and the fingerprint of the leaf', async () => {
    const dir = await tempDir();
    const authority = await newAuthority();
    const pair = await serverPair(authority);
    await writePair(dir, pair);
    await writeFile(join(dir, 'ca.crt'), authority.certificate.toString());

    const certificate = loadServingCertificate(dir);

    const leaf = new X509Certificate(pair.cert);
    expect(certificate).toEqual({
      cert: pair.cert,
      key: pair.key,
      ca: authority.certificate.toString(),
      notAfter: new Date(leaf.validTo),
      fingerprint: leaf.fingerprint256,
    });
    expect(certificate.notAfter.getTime()).toBe(Math.floor(CURRENT.notAfter.getTime() / 1000) * 1000);
    await rm(join(dir, 'ca.crt'));
    expect(loadServingCertificate(dir).ca).toBeUndefined();
  });

  it('names tls.crt and suggests a Secret or --dev-certs when the directory does not exist', async () => {
    const dir = join(await tempDir(), 'missing');
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /^\S*missing\/tls\.crt does not exist; mount a kubernetes\.io\/tls Secret at \S*missing or start with --dev-certs/,
    );
  });

  it('names tls.key when only the key is missing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'tls.crt'), (await serverPair(await newAuthority())).cert);
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.key does not exist; mount a kubernetes\.io\/tls Secret/,
    );
  });

  it('says when a file cannot be read', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'tls.crt'));
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.crt cannot be read \(EISDIR\); make it readable/,
    );
  });

  it('refuses a tls.crt that is not a certificate', async () => {
    const dir = await tempDir();
    const pair = await serverPair(await newAuthority());
    await writePair(dir, {
      cert: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
      key: pair.key,
    });
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.crt does not hold a PEM-encoded X\.509 certificate; replace tls\.crt and tls\.key in \S+ with a matching, current pair .*--dev-certs\.$/,
      [pair.key],
    );
  });

  it('refuses a damaged tls.key without repeating any of it', async () => {
    const dir = await tempDir();
    const pair = await serverPair(await newAuthority());
    const lines = pair.key.split('\n');
    const damaged = [...lines.slice(0, 2), ...lines.slice(3)].join('\n'); // a line lost
    await writePair(dir, { cert: pair.cert, key: damaged });
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.key does not hold a PEM-encoded private key; replace/,
      [pair.key],
    );
  });

  it.each([
    { format: 'PKCS #8', type: 'pkcs8' as const },
    { format: 'traditional SEC 1', type: 'sec1' as const },
  ])('asks for an unencrypted key when tls.key needs a passphrase ($format)', async ({ type }) => {
    const dir = await tempDir();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pair = await serverPair(await newAuthority(), CURRENT, privateKey);
    const encrypted = privateKey
      .export({ type, format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
      .toString();
    await writePair(dir, { cert: pair.cert, key: encrypted });
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.key is encrypted with a passphrase; store the key unencrypted/,
      [encrypted, pair.key],
    );
  });

  it('refuses a tls.key that belongs to another certificate', async () => {
    const dir = await tempDir();
    const authority = await newAuthority();
    const pair = await serverPair(authority);
    const other = await serverPair(authority);
    await writePair(dir, { cert: pair.cert, key: other.key });
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.key is not the private key of the certificate in \S+\/tls\.crt; replace/,
      [pair.key, other.key],
    );
  });

  it('refuses an expired certificate and says when it expired', async () => {
    const dir = await tempDir();
    const pair = await serverPair(await newAuthority(), EXPIRED);
    await writePair(dir, pair);
    const expiry = new Date(Math.floor(EXPIRED.notAfter.getTime() / 1000) * 1000).toISOString();
    await expectCertificateError(
      () => loadServingCertificate(dir),
      new RegExp(`/tls\\.crt expired on ${expiry}; replace`),
      [pair.key],
    );
  });

  it('refuses a certificate that is not valid yet', async () => {
    const dir = await tempDir();
    await writePair(dir, await serverPair(await newAuthority(), NOT_YET_VALID));
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.crt is not valid before \S+; check this machine's clock, or replace/,
    );
  });

  it('refuses a ca.crt that is not a certificate', async () => {
    const dir = await tempDir();
    await writePair(dir, await serverPair(await newAuthority()));
    await writeFile(join(dir, 'ca.crt'), 'not a certificate\n');
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/ca\.crt does not hold a PEM-encoded X\.509 certificate; replace \S+ with the certificate of the CA that issued tls\.crt, or delete it\.$/,
    );
  });

  it('refuses a pair that TLS would reject, such as one with a 512-bit RSA key', async () => {
    const dir = await tempDir();
    const pair = await serverPair(await newAuthority(), CURRENT, generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey);
    await writePair(dir, pair);
    await expectCertificateError(
      () => loadServingCertificate(dir),
      /\/tls\.crt and \S+\/tls\.key cannot be used for TLS \(.+\); replace/,
      [pair.key],
    );
  });
});

describe('CertificateWatcher', () => {
  it('picks up a Secret volume rotation through fs.watch on the directory', async () => {
    const dir = await tempDir();
    const authority = await newAuthority();
    const first = await serverPair(authority);
    await writeSecretVolume(dir, {
      'tls.crt': first.cert,
      'tls.key': first.key,
      'ca.crt': authority.certificate.toString(),
    });
    const { watcher, events, initial } = startWatcher(dir, NO_POLLING);
    expect(initial.fingerprint).toBe(fingerprintOf(first.cert));

    const second = await serverPair(authority);
    await writeSecretVolume(dir, {
      'tls.crt': second.cert,
      'tls.key': second.key,
      'ca.crt': authority.certificate.toString(),
    });

    await waitForEvents(events, 1);
    expect(events[0]).toMatchObject({
      result: 'success',
      error: undefined,
      certificate: { fingerprint: fingerprintOf(second.cert), key: second.key },
    });
    expect(watcher.current().fingerprint).toBe(fingerprintOf(second.cert));
  });

  it.each([
    {
      replacement: 'garbage',
      files: async (_authority: Authority, good: Pair) => ({ cert: 'garbage\n', key: good.key }),
      message: /does not hold a PEM-encoded X\.509/,
    },
    {
      replacement: 'a key of another certificate',
      files: async (authority: Authority, good: Pair) => ({ cert: (await serverPair(authority)).cert, key: good.key }),
      message: /is not the private key/,
    },
    {
      replacement: 'an expired certificate',
      files: (authority: Authority) => serverPair(authority, EXPIRED),
      message: /expired on/,
    },
  ])(
    'keeps the current certificate when the replacement is $replacement, and takes the next good one',
    async ({ files, message }) => {
      const dir = await tempDir();
      const authority = await newAuthority();
      const first = await serverPair(authority);
      await writeSecretVolume(dir, { 'tls.crt': first.cert, 'tls.key': first.key });
      const { watcher, events } = startWatcher(dir, NO_POLLING);

      const broken = await files(authority, first);
      await writeSecretVolume(dir, { 'tls.crt': broken.cert, 'tls.key': broken.key });
      await waitForEvents(events, 1);

      expect(events[0]).toMatchObject({ result: 'failure', certificate: undefined });
      expect(events[0]?.error).toBeInstanceOf(CertificateError);
      expect(events[0]?.error?.message).toMatch(message);
      expect(watcher.current().fingerprint).toBe(fingerprintOf(first.cert));

      const next = await serverPair(authority);
      await writeSecretVolume(dir, { 'tls.crt': next.cert, 'tls.key': next.key });
      await waitForEvents(events, 2);
      expect(events[1]).toMatchObject({ result: 'success', certificate: { fingerprint: fingerprintOf(next.cert) } });
    },
  );

  it('finds by polling a change that fs.watch on the directory cannot see', async () => {
    const dir = await tempDir();
    const authority = await newAuthority();
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const first = await serverPair(authority, CURRENT, privateKey);
    const dataDir = await writeSecretVolume(dir, { 'tls.crt': first.cert, 'tls.key': first.key });
    const polling = startWatcher(dir, 50);
    const watchingOnly = startWatcher(dir, NO_POLLING);

    // Inside the timestamped directory, behind the ..data symlink: invisible to a watch on dir.
    const renewed = await serverPair(authority, CURRENT, privateKey);
    await writeFile(join(dir, dataDir, 'tls.crt.new'), renewed.cert);
    await rename(join(dir, dataDir, 'tls.crt.new'), join(dir, dataDir, 'tls.crt'));

    await waitForEvents(polling.events, 1);
    expect(polling.events[0]).toMatchObject({
      result: 'success',
      certificate: { fingerprint: fingerprintOf(renewed.cert) },
    });
    await sleep(300);
    expect(watchingOnly.events).toEqual([]);
  });

  it('never holds the process open, and reports nothing after stop(), not even a change it was settling', async () => {
    const dir = await tempDir();
    const authority = await newAuthority();
    const first = await serverPair(authority);
    await writeSecretVolume(dir, { 'tls.crt': first.cert, 'tls.key': first.key });
    const keepAlive = (): string[] =>
      process.getActiveResourcesInfo().filter((type) => type === 'Timeout' || type === 'FSEventWrap');
    const before = keepAlive();

    // Other tests' timers may end meanwhile, so the watcher must add none rather than leave the set equal.
    const addsNone = (): void => expect(keepAlive().length).toBeLessThanOrEqual(before.length);
    const { watcher, events } = startWatcher(dir, 20);
    addsNone();
    const rotated = await serverPair(authority);
    const dataDir = await writeSecretVolume(dir, { 'tls.crt': rotated.cert, 'tls.key': rotated.key });
    await sleep(60); // seen, and waiting to settle
    addsNone();
    watcher.stop();

    const second = await serverPair(authority);
    await writeFile(join(dir, dataDir, 'tls.crt'), second.cert); // only polling would see this
    await writeSecretVolume(dir, { 'tls.crt': second.cert, 'tls.key': second.key }); // fs.watch would see this
    await sleep(400);
    expect(events).toEqual([]);
  });

  it('throws CertificateError from start() when the files are not usable', async () => {
    const dir = await tempDir();
    const watcher = new CertificateWatcher(dir, { onReload: () => undefined });
    watchers.push(watcher);
    await expectCertificateError(() => watcher.start(), /\/tls\.crt does not exist/);
    expect(() => watcher.current()).toThrow('start() has not been called');
  });

  it('refuses a poll interval that is not a positive number', () => {
    expect(() => new CertificateWatcher('/certs', { pollIntervalMs: 0, onReload: () => undefined })).toThrow(
      RangeError,
    );
  });
});
