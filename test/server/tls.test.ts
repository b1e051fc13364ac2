import { copyFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../src/server/certificates.js';
import { metricValue } from './test-app.js';
import { eventually, httpsCall, readText, startChildServer, temporaryDirectory, type ChildServer } from './child-server.js';

/** The server as `npm start` runs it, with development certificates in a fresh folder. */
const certs = temporaryDirectory('tls');
let server: ChildServer;
let ca: string;

beforeAll(async () => {
  // Node's own minimum is lowered to TLS 1.0 here, so only the server's setting keeps TLS 1.2 the floor.
  server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path], { NODE_OPTIONS: '--tls-min-v1.0' });
  ca = readText(join(certs.path, 'ca.crt'));
});

afterAll(async () => {
  await server.stop();
  certs.remove();
});

const example = (): string => readText(new URL('../../examples/admission-review.json', import.meta.url).pathname);

/** A new serving pair signed by the same development CA, made in a scratch folder. */
async function newPairFromSameCa(): Promise<{ cert: string; key: string; dir: { path: string; remove(): void } }> {
  const dir = temporaryDirectory('pair');
  copyFileSync(join(certs.path, 'ca.crt'), join(dir.path, 'ca.crt'));
  copyFileSync(join(certs.path, 'ca.key'), join(dir.path, 'ca.key'));
  await ensureDevCertificates(dir.path);
  return { cert: readText(join(dir.path, 'tls.crt')), key: readText(join(dir.path, 'tls.key')), dir };
}

/** Replaces a file in one step, as a Secret volume update does: a reader never sees half a file. */
function replaceFile(path: string, contents: string): void {
  writeFileSync(`${path}.next`, contents);
  renameSync(`${path}.next`, path);
}

async function metrics(): Promise<string> {
  return (await httpsCall(server.port, { ca, path: '/metrics' })).body;
}

describe('serve --dev-certs', () => {
  it('creates a CA and a serving certificate, says where the CA is, and prints one listening line', () => {
    expect(existsSync(join(certs.path, 'ca.crt'))).toBe(true);
    const devCertificates = server.logs().find((line) => line.event === 'dev-certificates');
    expect(devCertificates).toMatchObject({ created: true, caFile: join(certs.path, 'ca.crt') });
    expect(String(devCertificates?.msg)).toContain(join(certs.path, 'ca.crt'));
    const listening = server.logs().filter((line) => line.event === 'listening');
    expect(listening).toHaveLength(1);
    expect(listening[0]?.msg).toMatch(new RegExp(`^mcpserver-webhook listening on https://.*:${server.port}/validate \\(every interface: reachable from other machines;`));
    expect(listening[0]?.interfaces).toBe('every');
  });

  it('answers the example review over TLS verified against the generated CA', async () => {
    const answer = await httpsCall(server.port, { ca, body: example() });
    expect(answer.status).toBe(200);
    const { response } = JSON.parse(answer.body);
    expect(response.allowed).toBe(false);
    expect(response.status.details.causes.length).toBeGreaterThan(0);
  });

  it('is not trusted by a client that does not know the CA', async () => {
    const other = temporaryDirectory('other-ca');
    try {
      await ensureDevCertificates(other.path);
      await expect(httpsCall(server.port, { ca: readText(join(other.path, 'ca.crt')), body: example() })).rejects.toThrow();
    } finally {
      other.remove();
    }
  });

  it('refuses TLS 1.1 and accepts TLS 1.2', async () => {
    const protocolError = await new Promise<string>((resolve) => {
      const socket = connect({ host: 'localhost', port: server.port, ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        socket.end();
        resolve('connected');
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(protocolError).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
    expect((await httpsCall(server.port, { ca, path: '/healthz', maxVersion: 'TLSv1.2' })).status).toBe(200);
  });

  it('serves health, readiness and metrics on the HTTPS port', async () => {
    expect((await httpsCall(server.port, { ca, path: '/healthz' })).body).toBe('ok\n');
    expect((await httpsCall(server.port, { ca, path: '/readyz' })).status).toBe(200);
    const text = await metrics();
    expect(text).toContain('# TYPE mcpserver_webhook_admission_requests_total counter');
    expect(metricValue(text, 'mcpserver_webhook_certificate_expiry_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000);
  });
});

describe('certificate hot reload', () => {
  it('serves a new certificate to new connections within seconds, without a restart or a failed request', async () => {
    const before = (await httpsCall(server.port, { ca, path: '/healthz' })).fingerprint;
    const pair = await newPairFromSameCa();
    const failures: unknown[] = [];
    let answered = 0;
    let polling = true;
    // Reviews keep arriving while the certificate changes: none may fail.
    const traffic = (async () => {
      while (polling) {
        await httpsCall(server.port, { ca, body: example() }).then(
          (answer) => (answer.status === 200 ? answered++ : failures.push(answer.status)),
          (error: unknown) => failures.push(error),
        );
      }
    })();
    try {
      replaceFile(join(certs.path, 'tls.key'), pair.key);
      replaceFile(join(certs.path, 'tls.crt'), pair.cert);
      const after = await eventually(async () => {
        const { fingerprint } = await httpsCall(server.port, { ca, path: '/healthz' });
        return fingerprint !== before ? fingerprint : undefined;
      }, 8000);
      expect(after).not.toBe(before);
    } finally {
      polling = false;
      await traffic;
      pair.dir.remove();
    }
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(0);
    expect(metricValue(await metrics(), 'mcpserver_webhook_certificate_reloads_total{result="success"}')).toBeGreaterThanOrEqual(1);
    expect(server.process.pid).toBeDefined();
    expect(server.process.exitCode).toBeNull();
  });

  it('refuses a mismatched pair, keeps the one in service, and logs and counts the error', async () => {
    const inService = (await httpsCall(server.port, { ca, path: '/healthz' })).fingerprint;
    const failuresBefore = metricValue(await metrics(), 'mcpserver_webhook_certificate_reloads_total{result="failure"}') ?? 0;
    const stranger = await newPairFromSameCa();
    const seen = server.logs().length;
    try {
      replaceFile(join(certs.path, 'tls.key'), stranger.key); // the key of another certificate
      const refused = await server.waitForLog((line) => line.event === 'certificate-reload' && line.result === 'failure', { timeoutMs: 8000, skip: seen });
      expect(refused.level).toBe('error');
      expect(JSON.stringify(refused.error)).toContain('is not the private key of the certificate');
      expect(JSON.stringify(refused)).not.toContain('PRIVATE KEY');
    } finally {
      stranger.dir.remove();
    }
    expect(metricValue(await metrics(), 'mcpserver_webhook_certificate_reloads_total{result="failure"}')).toBe(failuresBefore + 1);
    const answer = await httpsCall(server.port, { ca, body: example() });
    expect(answer.status).toBe(200);
    expect(answer.fingerprint).toBe(inService);
    expect((await httpsCall(server.port, { ca, path: '/readyz' })).status).toBe(200);
  });
});
