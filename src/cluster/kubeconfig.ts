import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve as resolvePath } from 'node:path';
import { loadAll } from 'js-yaml';
import { isPlainObject } from '../engine/schema.js';
import { kubeConfigAuth } from './client-node-auth.js';
import { ClusterError, firstLine } from './cluster-error.js';
import type { RequestAuth, ResolvedRequest, TlsSettings } from './request-auth.js';

/**
 * The credentials of the audit, found and read without @kubernetes/client-node: importing it costs
 * about 50 MiB of RSS (its config.js imports the whole generated API), more than the server can
 * spare at 10,000 MCPServers. Kubeconfig files are read here as kubectl reads them, and a token, a
 * token file, client certificates, basic auth and impersonation authenticate natively. Only a user
 * with an exec plugin or an auth provider, or a cluster behind a proxy, loads client-node, on its
 * first request.
 */

/** The API server of the chosen context, how requests to it authenticate, and how to speak of it in messages. */
export interface ClusterConnection {
  /** The API server URL of the current context. */
  readonly server: string;
  /** Whose credentials the requests carry, e.g. `user "alice" of context "prod"`. */
  readonly credentials: string;
  /** How each request authenticates; the requests of one connection share a connection pool. */
  readonly auth: RequestAuth;
}

export interface ConnectOptions {
  /** `--kubeconfig`: wins over everything else. */
  readonly kubeconfig?: string;
  /** `--context`: a context of the kubeconfig instead of its current-context. */
  readonly context?: string;
  /** Read for KUBECONFIG, HOME, and KUBERNETES_SERVICE_HOST and _PORT (whether this runs in a pod). */
  readonly env: NodeJS.ProcessEnv;
  /** Where the pod's service account files are mounted under; the filesystem root but in tests. */
  readonly serviceAccountRoot?: string;
}

/** A cluster of a kubeconfig, its file paths made absolute. */
interface KubeconfigCluster {
  readonly name: string;
  /** Without a trailing slash, as client-node keeps it: request paths are appended. */
  readonly server: string;
  readonly caFile?: string;
  readonly caData?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
}

/** A user of a kubeconfig, its file paths made absolute. */
interface KubeconfigUser {
  readonly name: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly certFile?: string;
  readonly certData?: string;
  readonly keyFile?: string;
  readonly keyData?: string;
  readonly username?: string;
  readonly password?: string;
  /** `as`. */
  readonly impersonate?: string;
  readonly exec?: Readonly<Record<string, unknown>>;
  readonly authProvider?: Readonly<Record<string, unknown>>;
}

interface KubeconfigContext {
  readonly name: string;
  readonly cluster: string;
  readonly user?: string;
  readonly namespace?: string;
}

interface Kubeconfig {
  readonly clusters: readonly KubeconfigCluster[];
  readonly users: readonly KubeconfigUser[];
  readonly contexts: readonly KubeconfigContext[];
  readonly currentContext?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Finds the credentials the way controller-runtime does: `--kubeconfig`, then KUBECONFIG (several
 * files merged as kubectl merges them), then the pod's service account when running in a pod,
 * then `~/.kube/config`. `--context` asks for a kubeconfig, so it skips the service account.
 * `now` is the clock of token file re-reads.
 */
export function connect(options: ConnectOptions, now: () => number = Date.now): ClusterConnection {
  const root = options.serviceAccountRoot ?? '';
  const tokenFile = `${root}${SERVICE_ACCOUNT_DIR}/token`;
  const { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: port } = options.env;
  const inPod = Boolean(host && port) && existsSync(tokenFile);

  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) {
      throw new ClusterError('config', `no kubeconfig at ${options.kubeconfig} (given with --kubeconfig): no such file`);
    }
    return useContext(readKubeconfigFiles([options.kubeconfig]), options.kubeconfig, options.context, now);
  }
  const fromEnv = (options.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) {
    const present = fromEnv.filter((file) => existsSync(file));
    if (present.length === 0) {
      throw new ClusterError(
        'config',
        `no kubeconfig found: the KUBECONFIG environment variable names ${fromEnv.join(delimiter)}, and no such file exists; point KUBECONFIG or --kubeconfig FILE at one`,
      );
    }
    return useContext(readKubeconfigFiles(present), present.join(delimiter), options.context, now);
  }
  if (inPod && !options.context && host && port) {
    // client-go's rest.InClusterConfig: always https, the service account's CA, its token file.
    const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
    const cluster: KubeconfigCluster = { name: 'inCluster', server, caFile: `${root}${SERVICE_ACCOUNT_DIR}/ca.crt`, skipTLSVerify: false };
    const auth = nativeAuth(cluster, { name: 'inClusterUser', tokenFile }, now);
    return { server, auth, credentials: `the pod's service account token (${tokenFile})` };
  }
  const home = options.env.HOME || options.env.USERPROFILE || homedir();
  const defaultFile = join(home, '.kube', 'config');
  if (!existsSync(defaultFile)) {
    throw new ClusterError(
      'config',
      `no kubeconfig found: looked for ${defaultFile}${inPod ? '' : ` and for a pod service account token at ${tokenFile}`}; point at one with --kubeconfig FILE or the KUBECONFIG environment variable`,
    );
  }
  return useContext(readKubeconfigFiles([defaultFile]), defaultFile, options.context, now);
}

/** Reads and merges kubeconfig files with kubectl's rule: the first file to set a name, or the current context, wins. */
function readKubeconfigFiles(files: readonly string[]): Kubeconfig {
  let merged: Kubeconfig = { clusters: [], users: [], contexts: [] };
  for (const file of files) {
    let next: Kubeconfig;
    try {
      next = parseKubeconfig(readFileSync(file, 'utf8'), dirname(resolvePath(file)));
    } catch (error) {
      throw new ClusterError('config', `cannot load the kubeconfig ${file}: ${firstLine(error)}`);
    }
    const currentContext = merged.currentContext || next.currentContext;
    merged = {
      clusters: mergeByName(merged.clusters, next.clusters),
      users: mergeByName(merged.users, next.users),
      contexts: mergeByName(merged.contexts, next.contexts),
      ...(currentContext ? { currentContext } : {}),
    };
  }
  return merged;
}

function mergeByName<T extends { readonly name: string }>(first: readonly T[], later: readonly T[]): T[] {
  const taken = new Set(first.map((entry) => entry.name));
  return [...first, ...later.filter((entry) => !taken.has(entry.name))];
}

/**
 * One kubeconfig file's clusters, users and contexts, with the fields kubectl reads; an entry
 * without a name, or a cluster without a server, is refused in client-node's words. File paths are
 * relative to the file's folder, as kubectl resolves them.
 */
function parseKubeconfig(content: string, folder: string): Kubeconfig {
  // The first document, as kubectl reads it; an empty file is an empty kubeconfig.
  const [document] = loadAll(content);
  if (document === undefined || document === null) return { clusters: [], users: [], contexts: [] };
  if (!isPlainObject(document)) throw new Error('it is not a kubeconfig: a YAML mapping of clusters, users and contexts');
  const path = (value: unknown): string | undefined => {
    const file = stringOf(value);
    return file === undefined ? undefined : resolvePath(folder, file);
  };
  const clusters = list(document.clusters).map((entry, index): KubeconfigCluster => {
    const name = requireText(entry.name, `clusters[${index}].name`);
    const cluster = requireRecord(entry.cluster, `clusters[${index}].cluster`);
    return {
      name,
      server: requireText(cluster.server, `clusters[${index}].cluster.server`).replace(/\/$/, ''),
      ...optional('caFile', path(cluster['certificate-authority'])),
      ...optional('caData', stringOf(cluster['certificate-authority-data'])),
      skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
      ...optional('tlsServerName', stringOf(cluster['tls-server-name'])),
      ...optional('proxyUrl', stringOf(cluster['proxy-url'])),
    };
  });
  const users = list(document.users).map((entry, index): KubeconfigUser => {
    const name = requireText(entry.name, `users[${index}].name`);
    const user = isPlainObject(entry.user) ? entry.user : {};
    const exec = isPlainObject(user.exec) ? user.exec : undefined;
    const command = stringOf(exec?.command);
    return {
      name,
      ...optional('token', stringOf(user.token)),
      ...optional('tokenFile', path(user.tokenFile)),
      ...optional('certFile', path(user['client-certificate'])),
      ...optional('certData', stringOf(user['client-certificate-data'])),
      ...optional('keyFile', path(user['client-key'])),
      ...optional('keyData', stringOf(user['client-key-data'])),
      ...optional('username', stringOf(user.username)),
      ...optional('password', stringOf(user.password)),
      ...optional('impersonate', stringOf(user.as)),
      // kubectl resolves an exec command that is a path, not one looked up in PATH.
      ...optional('exec', exec && command?.includes('/') ? { ...exec, command: resolvePath(folder, command) } : exec),
      ...optional('authProvider', isPlainObject(user['auth-provider']) ? user['auth-provider'] : undefined),
    };
  });
  const contexts = list(document.contexts).map((entry, index): KubeconfigContext => {
    const name = requireText(entry.name, `contexts[${index}].name`);
    const context = requireRecord(entry.context, `contexts[${index}].context`);
    return {
      name,
      cluster: requireText(context.cluster, `contexts[${index}].context.cluster`),
      ...optional('user', stringOf(context.user)),
      ...optional('namespace', stringOf(context.namespace)),
    };
  });
  const currentContext = stringOf(document['current-context']);
  return { clusters, users, contexts, ...optional('currentContext', currentContext) };
}

/** The entries of a list, each a mapping (a missing list is an empty one, as kubectl reads it). */
function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map((entry: unknown) => (isPlainObject(entry) ? entry : {})) : [];
}

/** A string field's value; absent when empty or not a string. */
function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requireText(value: unknown, where: string): string {
  const found = stringOf(value);
  if (found === undefined) throw new Error(`${where} is missing`);
  return found;
}

function requireRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw new Error(`${where} is missing`);
  return value;
}

/** `{ [key]: value }`, or nothing when the value is absent: fields stay off rather than undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The connection of `context`, or of the current context, with connect's messages for what is missing. */
function useContext(kubeconfig: Kubeconfig, source: string, context: string | undefined, now: () => number): ClusterConnection {
  const names = kubeconfig.contexts.map((entry) => entry.name);
  const known = names.length > 0 ? ` (its contexts: ${names.join(', ')})` : ' (it has no contexts)';
  const find = (name: string): KubeconfigContext | undefined => kubeconfig.contexts.find((entry) => entry.name === name);
  if (context !== undefined && !find(context)) throw new ClusterError('config', `the kubeconfig ${source} has no context "${context}"${known}`);
  const current = context ?? kubeconfig.currentContext;
  if (!current) throw new ClusterError('config', `the kubeconfig ${source} sets no current-context: choose one with --context NAME${known}`);
  const chosen = find(current);
  if (!chosen) throw new ClusterError('config', `the kubeconfig ${source} has no context "${current}"${known}`);
  const cluster = kubeconfig.clusters.find((entry) => entry.name === chosen.cluster);
  if (!cluster) throw new ClusterError('config', `context "${current}" of the kubeconfig ${source} names no cluster with a server URL`);
  const user = chosen.user === undefined ? undefined : kubeconfig.users.find((entry) => entry.name === chosen.user);
  const needsClientNode = Boolean(user?.exec || user?.authProvider || cluster.proxyUrl);
  return {
    server: cluster.server,
    auth: needsClientNode ? clientNodeAuth(kubeconfig, current) : nativeAuth(cluster, user, now),
    credentials: user ? `user "${user.name}" of context "${current}"` : `context "${current}" (which names no user)`,
  };
}

/**
 * Requests authenticated from the kubeconfig alone. The certificates and keys are read on the
 * first request, the token file again once a minute.
 */
function nativeAuth(cluster: KubeconfigCluster, user: KubeconfigUser | undefined, now: () => number): RequestAuth {
  // client-node refuses plain http unless the cluster skips TLS verification, and so does this.
  const plainHttp = cluster.server.startsWith('http:') && !cluster.skipTLSVerify;
  const bearer = user?.token !== undefined ? user.token : user?.tokenFile ? tokenFileReader(user.tokenFile, now) : undefined;
  const tls = readOnce(() => readTls(cluster, user));
  return {
    async resolve(): Promise<ResolvedRequest> {
      if (plainHttp) {
        throw new Error(`the server ${cluster.server} is plain HTTP, which is allowed only when the cluster ${cluster.name} sets insecure-skip-tls-verify: true`);
      }
      const headers: Record<string, string> = {};
      const token = typeof bearer === 'function' ? await bearer() : bearer;
      // client-go refuses a user with both; client-node's requests then send the token.
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
      else if (user?.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      if (user?.impersonate !== undefined) headers['Impersonate-User'] = user.impersonate;
      return { headers, tls: await tls() };
    },
  };
}

async function readTls(cluster: KubeconfigCluster, user: KubeconfigUser | undefined): Promise<TlsSettings> {
  const [ca, cert, key] = await Promise.all([
    fileOrData('certificate-authority', cluster.caFile, cluster.caData),
    fileOrData('client-certificate', user?.certFile, user?.certData),
    fileOrData('client-key', user?.keyFile, user?.keyData),
  ]);
  return {
    ...optional('ca', ca),
    ...optional('cert', cert),
    ...optional('key', key),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...optional('servername', cluster.tlsServerName),
  };
}

/** The `-data` field (base64) wins over the file, as client-go takes it. */
async function fileOrData(field: string, file: string | undefined, data: string | undefined): Promise<Buffer | undefined> {
  if (data !== undefined) return Buffer.from(data, 'base64');
  return file === undefined ? undefined : readNamed(`the ${field} file ${file}`, file);
}

/** A file's content, or an Error that names the file and why, never its content. */
async function readNamed(what: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new Error(`cannot read ${what}: ${(error as NodeJS.ErrnoException).code ?? firstLine(error)}`);
  }
}

/** The first successful result of `read`, shared by every caller; a failure is tried again by the next. */
function readOnce<T>(read: () => Promise<T>): () => Promise<T> {
  let reading: Promise<T> | undefined;
  return () =>
    (reading ??= read().catch((error: unknown) => {
      reading = undefined;
      throw error;
    }));
}

/** How long a token read from a file is used before the file is read again: client-go's cachingTokenSource period. */
const TOKEN_FILE_PERIOD_MS = 60_000;

/**
 * The token of a file, read again once a minute, as client-go's cachingTokenSource reads it:
 * projected service account tokens rotate. When a later read fails, the token read last is kept,
 * as client-go keeps it; only the first read's failure rejects.
 */
function tokenFileReader(file: string, now: () => number): () => Promise<string> {
  let token: string | undefined;
  let readAt = 0;
  let reading: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    try {
      const content = (await readNamed(`the token file ${file}`, file)).toString('utf8').trim();
      if (!content) throw new Error(`the token file ${file} is empty`);
      token = content;
      readAt = now();
      return content;
    } catch (error) {
      if (token !== undefined) return token;
      throw error;
    } finally {
      reading = undefined;
    }
  };
  // Requests that arrive while the file is read wait for that one read.
  return () => (token !== undefined && now() - readAt < TOKEN_FILE_PERIOD_MS ? Promise.resolve(token) : (reading ??= read()));
}

/**
 * Requests authenticated by client-node, for what only it knows: exec plugins (ExecCredential,
 * their caching and renewal), auth providers (OIDC, GCP, Azure) and proxies (HTTP and SOCKS). It is
 * imported on the first request, so only kubeconfigs that need it pay its ~50 MiB.
 */
function clientNodeAuth(kubeconfig: Kubeconfig, currentContext: string): RequestAuth {
  let loading: Promise<RequestAuth> | undefined;
  return {
    async resolve(): Promise<ResolvedRequest> {
      loading ??= loadClientNodeAuth(kubeconfig, currentContext);
      return (await loading).resolve();
    },
  };
}

async function loadClientNodeAuth(kubeconfig: Kubeconfig, currentContext: string): Promise<RequestAuth> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: kubeconfig.clusters,
    users: kubeconfig.users.map((user) => ({
      name: user.name,
      token: user.token,
      certFile: user.certFile,
      certData: user.certData,
      keyFile: user.keyFile,
      keyData: user.keyData,
      username: user.username,
      password: user.password,
      impersonateUser: user.impersonate,
      exec: user.exec,
      // client-node knows a token file only as its `tokenFile` auth provider, which re-reads it every minute.
      authProvider: user.authProvider ?? (user.tokenFile && !user.token && !user.exec ? { name: 'tokenFile', config: { tokenFile: user.tokenFile } } : undefined),
    })),
    contexts: kubeconfig.contexts,
    currentContext,
  });
  return kubeConfigAuth(config);
}

