import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/cluster/connection.js';
import { connect } from '../../src/cluster/kubeconfig.js';
import { TOKEN, writeKubeconfig } from './fake-api-server.js';

const emptyDir = (): string => mkdtempSync(join(tmpdir(), 'kubeconfig-'));

/** A kubeconfig of one context `c`, with the cluster and user fields given (YAML flow mappings). */
function writeConfig(dir: string, cluster: string, user: string, name = 'kubeconfig'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: cl, cluster: {${cluster}}}]\nusers: [{name: u, user: {${user}}}]\ncontexts: [{name: c, context: {cluster: cl, user: u}}]\ncurrent-context: c\n`,
  );
  return file;
}

function thrown(load: () => unknown): ClusterError {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ClusterError);
    return error as ClusterError;
  }
  throw new Error('nothing was thrown');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('nothing was rejected');
}

describe('connect', () => {
  it('takes --kubeconfig over KUBECONFIG, and KUBECONFIG over ~/.kube/config', () => {
    const dir = emptyDir();
    const flag = writeKubeconfig(dir, 'https://flag.example.com', 'flag.yaml', 'flag');
    const env = writeKubeconfig(dir, 'https://env.example.com', 'env.yaml', 'env');
    mkdirSync(join(dir, '.kube'));
    writeKubeconfig(join(dir, '.kube'), 'https://home.example.com', 'config', 'home');
    expect(connect({ kubeconfig: flag, env: { KUBECONFIG: env, HOME: dir } }).server).toBe('https://flag.example.com');
    expect(connect({ env: { KUBECONFIG: env, HOME: dir } }).server).toBe('https://env.example.com');
    expect(connect({ env: { HOME: dir } })).toMatchObject({ server: 'https://home.example.com', credentials: 'user "home-user" of context "home"' });
  });

  it('merges the files of KUBECONFIG as kubectl does: missing files passed over, the first to set a name or the current context wins', async () => {
    const dir = emptyDir();
    const first = join(dir, 'first.yaml');
    writeFileSync(first, 'apiVersion: v1\nkind: Config\nclusters: [{name: shared, cluster: {server: "https://first.example.com"}}]\n');
    const second = join(dir, 'second.yaml');
    writeFileSync(
      second,
      'apiVersion: v1\nkind: Config\nclusters: [{name: shared, cluster: {server: "https://second.example.com"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: second, context: {cluster: shared, user: u}}]\ncurrent-context: second\n',
    );
    const third = writeKubeconfig(dir, 'https://third.example.com', 'third.yaml', 'third');
    const files = [join(dir, 'missing.yaml'), first, second, third].join(delimiter);
    const connection = connect({ env: { KUBECONFIG: files } });
    expect(connection).toMatchObject({ server: 'https://first.example.com', credentials: 'user "u" of context "second"' });
    expect((await connection.auth.resolve()).headers).toEqual({ Authorization: 'Bearer t' });
    // The third file's context is there to be chosen.
    expect(connect({ env: { KUBECONFIG: files }, context: 'third' }).server).toBe('https://third.example.com');
  });

  it('chooses a context with --context, and names the contexts there are when it does not exist', () => {
    const file = writeKubeconfig(emptyDir(), 'https://a.example.com', 'kubeconfig', 'a');
    expect(connect({ kubeconfig: file, context: 'a', env: {} }).server).toBe('https://a.example.com');
    expect(() => connect({ kubeconfig: file, context: 'b', env: {} })).toThrow(`the kubeconfig ${file} has no context "b" (its contexts: a)`);
  });

  it('says which file sets no current-context, or names a current-context it does not have', () => {
    const file = join(emptyDir(), 'kubeconfig');
    const config = 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://c.example.com"}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {token: t}}]\n';
    writeFileSync(file, config);
    expect(() => connect({ kubeconfig: file, env: {} })).toThrow(`the kubeconfig ${file} sets no current-context: choose one with --context NAME (its contexts: c)`);
    writeFileSync(file, `${config}current-context: gone\n`);
    expect(() => connect({ kubeconfig: file, env: {} })).toThrow(`the kubeconfig ${file} has no context "gone" (its contexts: c)`);
  });

  it('says when the context names no cluster, and when it names no user', () => {
    const file = join(emptyDir(), 'kubeconfig');
    writeFileSync(file, 'clusters: [{name: c, cluster: {server: "https://c.example.com/"}}]\ncontexts: [{name: x, context: {cluster: nope}}, {name: c, context: {cluster: c}}]\ncurrent-context: x\n');
    expect(() => connect({ kubeconfig: file, env: {} })).toThrow(`context "x" of the kubeconfig ${file} names no cluster with a server URL`);
    // A trailing slash is dropped: request paths are appended to the server URL.
    expect(connect({ kubeconfig: file, context: 'c', env: {} })).toMatchObject({ server: 'https://c.example.com', credentials: 'context "c" (which names no user)' });
  });

  it('says where it looked when there is no kubeconfig, and how to point at one', () => {
    const dir = emptyDir();
    expect(() => connect({ kubeconfig: join(dir, 'nope'), env: {} })).toThrow(`no kubeconfig at ${join(dir, 'nope')} (given with --kubeconfig): no such file`);
    expect(() => connect({ env: { KUBECONFIG: join(dir, 'nope') } })).toThrow(
      `no kubeconfig found: the KUBECONFIG environment variable names ${join(dir, 'nope')}, and no such file exists; point KUBECONFIG or --kubeconfig FILE at one`,
    );
    expect(() => connect({ env: { HOME: dir }, serviceAccountRoot: dir })).toThrow(
      `no kubeconfig found: looked for ${join(dir, '.kube', 'config')} and for a pod service account token at ${dir}/var/run/secrets/kubernetes.io/serviceaccount/token; point at one with --kubeconfig FILE or the KUBECONFIG environment variable`,
    );
  });

  it('reports a kubeconfig that is not YAML, or not a kubeconfig, as a config error naming the file and why in one line', () => {
    const file = join(emptyDir(), 'kubeconfig');
    const cases: [string, RegExp][] = [
      ['clusters: [oops\n', /: \S/],
      ['just a string\n', /: it is not a kubeconfig: a YAML mapping of clusters, users and contexts$/],
      ['clusters: [{name: c, cluster: {}}]\n', /: clusters\[0\]\.cluster\.server is missing$/],
      ['users: [{user: {token: secret-token}}]\n', /: users\[0\]\.name is missing$/],
      ['contexts: [{name: c, context: {user: u}}]\n', /: contexts\[0\]\.context\.cluster is missing$/],
    ];
    for (const [content, reason] of cases) {
      writeFileSync(file, content);
      const error = thrown(() => connect({ kubeconfig: file, env: {} }));
      expect(error.kind).toBe('config');
      expect(error.message).toMatch(new RegExp(`^cannot load the kubeconfig ${file}: `));
      expect(error.message).toMatch(reason);
      expect(error.message).not.toContain('\n');
      expect(error.message).not.toContain('secret-token');
    }
  });

  it('reads an empty kubeconfig as one with no contexts, as kubectl does', () => {
    const file = join(emptyDir(), 'kubeconfig');
    writeFileSync(file, '');
    expect(() => connect({ kubeconfig: file, env: {} })).toThrow(`the kubeconfig ${file} sets no current-context: choose one with --context NAME (it has no contexts)`);
  });

  it('uses the pod service account in a pod, but not when a kubeconfig is named or --context asks for one', async () => {
    const root = emptyDir();
    const accountDir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(accountDir, { recursive: true });
    writeFileSync(join(accountDir, 'token'), 'pod-token\n');
    writeFileSync(join(accountDir, 'ca.crt'), 'pod CA');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const inPod = connect({ env, serviceAccountRoot: root });
    expect(inPod.server).toBe('https://10.96.0.1:443');
    expect(inPod.credentials).toBe(`the pod's service account token (${accountDir}/token)`);
    expect(await inPod.auth.resolve()).toEqual({ headers: { Authorization: 'Bearer pod-token' }, tls: { ca: Buffer.from('pod CA') } });
    expect(connect({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }, serviceAccountRoot: root }).server).toBe('https://[fd00::1]:6443');

    const kubeconfig = writeKubeconfig(root, 'https://outside.example.com');
    expect(connect({ env: { ...env, KUBECONFIG: kubeconfig }, serviceAccountRoot: root }).server).toBe('https://outside.example.com');
    expect(() => connect({ env: { ...env, HOME: root }, context: 'x', serviceAccountRoot: root })).toThrow(/^no kubeconfig found: looked for .*\/\.kube\/config; point at one/);
  });
});

describe('connect auth', () => {
  it('sends the bearer token', async () => {
    const connection = connect({ kubeconfig: writeKubeconfig(emptyDir(), 'https://a.example.com'), env: {} });
    expect(await connection.auth.resolve()).toEqual({ headers: { Authorization: `Bearer ${TOKEN}` }, tls: { rejectUnauthorized: false } });
  });

  it('reads a token file relative to the kubeconfig, and again once it is a minute old, keeping the last token when a read fails', async () => {
    const dir = emptyDir();
    const token = join(dir, 'token');
    writeFileSync(token, 'first\n');
    let now = 1_000_000;
    const { auth } = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com"', 'tokenFile: token'), env: {} }, () => now);
    expect((await auth.resolve()).headers).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(token, 'second');
    now += 59_000;
    expect((await auth.resolve()).headers).toEqual({ Authorization: 'Bearer first' });
    now += 1_000;
    expect((await auth.resolve()).headers).toEqual({ Authorization: 'Bearer second' });
    writeFileSync(token, '');
    now += 60_000;
    expect((await auth.resolve()).headers).toEqual({ Authorization: 'Bearer second' });
  });

  it('rejects with the file named, and no secret, when a file cannot be read', async () => {
    const dir = emptyDir();
    const token = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com"', 'tokenFile: gone'), env: {} });
    await expect(token.auth.resolve()).rejects.toThrow(`cannot read the token file ${join(dir, 'gone')}: ENOENT`);
    writeFileSync(join(dir, 'empty'), ' \n');
    const empty = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com"', 'tokenFile: empty'), env: {} });
    await expect(empty.auth.resolve()).rejects.toThrow(`the token file ${join(dir, 'empty')} is empty`);
    const key = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com"', 'token: secret-token, client-key: nokey'), env: {} });
    const error = await rejection(key.auth.resolve());
    expect(error.message).toBe(`cannot read the client-key file ${join(dir, 'nokey')}: ENOENT`);
    // Once the file is there, the next request reads it.
    writeFileSync(join(dir, 'nokey'), 'KEY');
    expect((await key.auth.resolve()).tls).toEqual({ key: Buffer.from('KEY') });
  });

  it('takes the CA, client certificate and key from base64 data, or from files relative to the kubeconfig', async () => {
    const dir = emptyDir();
    const b64 = (text: string): string => Buffer.from(text).toString('base64');
    const fromData = connect({
      kubeconfig: writeConfig(dir, `server: "https://a.example.com", certificate-authority-data: ${b64('CA')}`, `client-certificate-data: ${b64('CERT')}, client-key-data: ${b64('KEY')}`),
      env: {},
    });
    expect(await fromData.auth.resolve()).toEqual({ headers: {}, tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') } });

    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'CA FILE');
    writeFileSync(join(dir, 'pki', 'client.crt'), 'CERT FILE');
    writeFileSync(join(dir, 'pki', 'client.key'), 'KEY FILE');
    mkdirSync(join(dir, 'configs'));
    const fromFiles = connect({
      kubeconfig: writeConfig(join(dir, 'configs'), 'server: "https://a.example.com", certificate-authority: ../pki/ca.crt', `client-certificate: ../pki/client.crt, client-key: ${join(dir, 'pki', 'client.key')}`),
      env: {},
    });
    expect(await fromFiles.auth.resolve()).toEqual({ headers: {}, tls: { ca: Buffer.from('CA FILE'), cert: Buffer.from('CERT FILE'), key: Buffer.from('KEY FILE') } });
  });

  it('skips verification, names the TLS server, sends basic credentials and impersonates as the kubeconfig says', async () => {
    const dir = emptyDir();
    const skip = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com", insecure-skip-tls-verify: true, tls-server-name: api.internal', 'username: alice, password: s3cret, as: bob'), env: {} });
    expect(await skip.auth.resolve()).toEqual({
      headers: { Authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}`, 'Impersonate-User': 'bob' },
      tls: { rejectUnauthorized: false, servername: 'api.internal' },
    });
  });

  it('refuses plain http unless the cluster skips TLS verification, as client-node does', async () => {
    const dir = emptyDir();
    const plain = connect({ kubeconfig: writeConfig(dir, 'server: "http://a.example.com:8080"', 'token: secret-token'), env: {} });
    const error = await rejection(plain.auth.resolve());
    expect(error.message).toBe('the server http://a.example.com:8080 is plain HTTP, which is allowed only when the cluster cl sets insecure-skip-tls-verify: true');
    expect(error.message).not.toContain('secret-token');
    const allowed = connect({ kubeconfig: writeConfig(dir, 'server: "http://a.example.com:8080", insecure-skip-tls-verify: true', 'token: t'), env: {} });
    expect((await allowed.auth.resolve()).headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('runs an exec plugin through client-node, loaded for it', async () => {
    const dir = emptyDir();
    const plugin = join(dir, 'plugin.mjs');
    writeFileSync(plugin, `#!/usr/bin/env node\nprocess.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } }));\n`);
    chmodSync(plugin, 0o755);
    const connection = connect({
      kubeconfig: writeConfig(dir, 'server: "https://a.example.com"', 'exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.mjs, interactiveMode: Never}'),
      env: {},
    });
    expect((await connection.auth.resolve()).headers).toEqual({ Authorization: 'Bearer from-exec' });
  });
  it('leaves a proxy to client-node, with the token file of the user', async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, 'token'), 'file-token');
    const connection = connect({ kubeconfig: writeConfig(dir, 'server: "https://a.example.com", proxy-url: "http://proxy.example.com:3128"', 'tokenFile: token'), env: {} });
    const resolved = await connection.auth.resolve();
    expect(resolved.headers).toEqual({ Authorization: 'Bearer file-token' });
    expect(resolved.proxyAgent).toBeDefined();
  });
});

describe('kubeconfig.ts', () => {
  /**
   * Loads a kubeconfig in a child process whose module loader refuses client-node: the child prints
   * the Authorization header it would send, or fails with "client-node was imported".
   */
  async function resolveWithoutClientNode(kubeconfig: string): Promise<string> {
    const refuse = `export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (resolved.url.includes('/@kubernetes/client-node/')) throw new Error('client-node was imported');
      return resolved;
    }`;
    const script = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(refuse)}));
      const { connect } = await import('./src/cluster/kubeconfig.ts');
      const { auth } = connect({ kubeconfig: process.env.TEST_KUBECONFIG, env: {} });
      process.stdout.write((await auth.resolve()).headers.Authorization);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, TEST_KUBECONFIG: kubeconfig },
    });
    return stdout;
  }

  it('does not import client-node for a token kubeconfig', async () => {
    expect(await resolveWithoutClientNode(writeKubeconfig(emptyDir(), 'https://a.example.com'))).toBe(`Bearer ${TOKEN}`);
  });

  it('imports it for an exec plugin, which the child above would have refused', async () => {
    const dir = emptyDir();
    const kubeconfig = writeConfig(dir, 'server: "https://a.example.com"', `exec: {apiVersion: client.authentication.k8s.io/v1, command: ${join(dir, 'plugin')}}`);
    await expect(resolveWithoutClientNode(kubeconfig)).rejects.toThrow('client-node was imported');
  });
});
