import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { httpsCall, readText, runChild, startChildServer, temporaryDirectory } from './child-server.js';

const scratch = temporaryDirectory('startup');
afterAll(() => scratch.remove());

/** Runs the CLI to its exit; for start-ups that must fail. */
async function runToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = runChild(args, env);
  const code = await child.exited;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

describe('start-up errors: one clear line, exit status 2, no stack trace', () => {
  it('stops when certificates are missing and --dev-certs is not given, saying how to provide them', async () => {
    const empty = join(scratch.path, 'no-certs');
    const { code, stderr } = await runToExit(['serve', '--port', '0', '--cert-dir', empty]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^mcpserver-webhook serve: .*tls\.(crt|key) does not exist; mount a kubernetes\.io\/tls Secret at .* or start with --dev-certs/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('stops when the policy file is broken, naming the file and line', async () => {
    const policy = join(scratch.path, 'broken-policy.yaml');
    writeFileSync(policy, 'rules:\n  no-such-rule: deny\n');
    const { code, stderr } = await runToExit(['serve', '--dev-certs', '--port', '0', '--cert-dir', join(scratch.path, 'certs'), '--policy', policy]);
    expect(code).toBe(2);
    expect(stderr).toContain(`${policy}:2:`);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('stops when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    try {
      const port = String((blocker.address() as { port: number }).port);
      const { code, stderr } = await runToExit(['serve', '--dev-certs', '--port', port, '--cert-dir', join(scratch.path, 'certs')]);
      expect(code).toBe(2);
      expect(stderr).toContain('the port is in use');
    } finally {
      blocker.close();
    }
  });

  it('refuses bad settings from flags and environment without repeating the value', async () => {
    const secret = 'hunter2-not-a-port';
    const { code, stderr } = await runToExit(['serve'], { PORT: secret });
    expect(code).toBe(2);
    expect(stderr).toBe('mcpserver-webhook serve: --port (PORT) must be a port number from 0 to 65535\n');
    const level = await runToExit(['serve', '--log-level', 'loud']);
    expect(level.stderr).toMatch(/--log-level \(LOG_LEVEL\) must be one of fatal, error/);
  });

  it('refuses audit settings that mean nothing, without repeating the value', async () => {
    const serve = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> => {
      let stderr = '';
      const sink = new Writable({ write: (chunk, _encoding, done) => ((stderr += chunk.toString()), done()) });
      const code = await main(['serve', ...args], { stdout: sink, stderr: sink, stdin: process.stdin, env });
      return { code, stderr };
    };
    expect(await serve([], { AUDIT: 'yes-hunter2' })).toEqual({ code: 2, stderr: 'mcpserver-webhook serve: AUDIT must be true or false\n' });
    expect(await serve([], { FLEET: 'on' })).toEqual({ code: 2, stderr: 'mcpserver-webhook serve: FLEET must be true or false\n' });
    expect(await serve(['--kubeconfig', 'k.yaml'])).toEqual({ code: 2, stderr: 'mcpserver-webhook serve: --kubeconfig is used only with --audit or --fleet\n' });
    expect(await serve(['--audit-namespace', 'muster'], { AUDIT: 'false' })).toEqual({ code: 2, stderr: 'mcpserver-webhook serve: --audit-namespace is used only with --audit\n' });
    expect(await serve(['--audit', '--kubeconfig', ''])).toEqual({ code: 2, stderr: 'mcpserver-webhook serve: --kubeconfig needs a value\n' });
  });
});

describe('serve --help', () => {
  it('documents every option and its environment variable', async () => {
    let text = '';
    const stdout = new Writable({ write: (chunk, _encoding, done) => ((text += chunk.toString()), done()) });
    const code = await main(['serve', '--help'], { stdout, stderr: stdout, stdin: process.stdin, env: {} });
    expect(code).toBe(0);
    for (const option of ['--port', '--host', '--cert-dir', '--dev-certs', '--dev-cert-host', '--client-ca', '--policy', '--metrics-port', '--log-level', '--shutdown-grace', '--audit', '--audit-namespace', '--fleet', '--watch-secrets', '--kubeconfig']) {
      expect(text).toContain(option);
    }
    for (const variable of ['PORT', 'HOST', 'CERT_DIR', 'DEV_CERT_HOSTS', 'CLIENT_CA_FILE', 'POLICY_FILE', 'METRICS_PORT', 'LOG_LEVEL', 'SHUTDOWN_GRACE_SECONDS', 'AUDIT', 'POD_NAMESPACE']) {
      expect(text).toContain(`(${variable}`);
    }
  });
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A CA and a client certificate signed by it, as a cluster's API server would present. */
function clientCertificate(name: string): { ca: string; caFile: string; cert: string; key: string } {
  const dir = join(scratch.path, name);
  mkdirSync(dir, { recursive: true });
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', `/CN=${name} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=kube-apiserver');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1', '-extfile', 'client.ext');
  return { ca: readText(join(dir, 'ca.crt')), caFile: join(dir, 'ca.crt'), cert: readText(join(dir, 'client.crt')), key: readText(join(dir, 'client.key')) };
}

describe('--client-ca (configured through the environment)', () => {
  it.skipIf(!hasOpenssl())('requires a client certificate signed by that CA', async () => {
    const trusted = clientCertificate('trusted');
    const stranger = clientCertificate('stranger');
    const certDir = join(scratch.path, 'mtls-certs');
    const server = await startChildServer(['--dev-certs'], { PORT: '0', CERT_DIR: certDir, CLIENT_CA_FILE: trusted.caFile, LOG_LEVEL: 'debug' });
    try {
      const ca = readText(join(certDir, 'ca.crt'));
      expect(server.logs().find((line) => line.event === 'listening')?.clientCertificates).toBe(true);
      const ok = await httpsCall(server.port, { ca, path: '/healthz', cert: trusted.cert, key: trusted.key });
      expect(ok.status).toBe(200);
      await expect(httpsCall(server.port, { ca, path: '/healthz' })).rejects.toThrow();
      await expect(httpsCall(server.port, { ca, path: '/healthz', cert: stranger.cert, key: stranger.key })).rejects.toThrow();
      // The refusals are logged at debug level with their reason, for whoever debugs a --client-ca.
      await server.waitForLog((line) => line.event === 'tls-error' && typeof line.code === 'string');
    } finally {
      await server.stop();
    }
  });
});
