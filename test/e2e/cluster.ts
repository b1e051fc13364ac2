import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { MCPSERVER_RESOURCE } from '../../src/engine/index.js';
import { eventually } from '../server/child-server.js';
import { readText } from '../charts/chart-files.js';
import type { ControlPlane, User } from './control-plane.js';
import { request, type Endpoint } from './kube-http.js';

/** Who a kubeconfig speaks for: a client certificate, or a service account's token. */
export type Identity = User | { readonly name: string; readonly token: string };

/** A kubeconfig for `identity` against the control plane, as a user would write one. */
export function kubeconfigYaml(plane: ControlPlane, identity: Identity): string {
  const base64 = (text: string): string => Buffer.from(text).toString('base64');
  const user =
    'token' in identity
      ? { token: identity.token }
      : { 'client-certificate-data': base64(identity.cert), 'client-key-data': base64(identity.key) };
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server: plane.url, 'certificate-authority-data': base64(plane.ca) } }],
    users: [{ name: identity.name, user }],
    contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: identity.name } }],
    'current-context': 'e2e',
  });
}

/** Writes the kubeconfig of `identity` into the control plane's folder and returns its path. */
export function writeKubeconfig(plane: ControlPlane, identity: Identity): string {
  const file = join(plane.folder, `kubeconfig-${identity.name.replace(/[^a-z0-9-]/gi, '_')}.yaml`);
  writeFileSync(file, kubeconfigYaml(plane, identity), { mode: 0o600 });
  return file;
}

/** Where kube-http sends requests as `identity` (the administrator by default). */
export function endpoint(plane: ControlPlane, identity: Identity = plane.admin): Endpoint {
  return { url: plane.url, ca: plane.ca, user: 'token' in identity ? { token: identity.token } : { cert: identity.cert, key: identity.key } };
}

/** The administrator's API clients, from @kubernetes/client-node as a controller would make them. */
export function adminClients(plane: ControlPlane) {
  const config = new KubeConfig();
  config.loadFromString(kubeconfigYaml(plane, plane.admin));
  return {
    core: config.makeApiClient(CoreV1Api),
    custom: config.makeApiClient(CustomObjectsApi),
    rbac: config.makeApiClient(RbacAuthorizationV1Api),
    admission: config.makeApiClient(AdmissionregistrationV1Api),
    extensions: config.makeApiClient(ApiextensionsV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}
export type Clients = ReturnType<typeof adminClients>;

/** The upstream MCPServer CRD, as the project keeps it. */
export const MCPSERVER_CRD = 'schemas/upstream/muster.giantswarm.io_mcpservers.yaml';
/** The PolicyReport CRD that Kyverno installs, as the project keeps it. */
export const POLICY_REPORT_CRD = 'schemas/upstream/wgpolicyk8s.io_policyreports.yaml';

/**
 * Creates a CRD from a file of the repository, as `kubectl create -f` sends it, and waits until the
 * API server serves it. Not through client-node's typed API: its serializer knows the schema's
 * `x-kubernetes-validations` only by its TypeScript name and silently leaves the CEL rules out of
 * a CRD read from YAML.
 */
export async function installCrd(plane: ControlPlane, file: string): Promise<void> {
  const crd = load(readText(file)) as V1CustomResourceDefinition;
  await createObject(plane, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  const name = crd.metadata?.name ?? '';
  await eventually(async () => {
    const current = await request(endpoint(plane), 'GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    const conditions: { type: string; status: string }[] = current.body?.status?.conditions ?? [];
    return conditions.some((condition) => condition.type === 'Established' && condition.status === 'True') ? true : undefined;
  }, 30_000);
}

/** Creates an object as the administrator, with strict field validation; throws with the API server's answer if it fails. */
export async function createObject(plane: ControlPlane, collection: string, object: unknown): Promise<unknown> {
  const answer = await request(endpoint(plane), 'POST', collection, { body: object, query: { fieldValidation: 'Strict' } });
  if (answer.status >= 300) throw new Error(`creating ${collection} failed: ${answer.status} ${answer.text}`);
  return answer.body;
}

export async function createNamespace(clients: Clients, name: string, labels: Record<string, string> = {}): Promise<void> {
  await clients.core.createNamespace({ body: { metadata: { name, labels } } });
}

/** A service account and a token for it from the TokenRequest API, as `kubectl create token` gets one. */
export async function serviceAccount(clients: Clients, namespace: string, name: string): Promise<{ name: string; token: string }> {
  await clients.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  const request = await clients.core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = request.status?.token;
  if (!token) throw new Error(`no token for the service account ${namespace}/${name}`);
  return { name: `system:serviceaccount:${namespace}:${name}`, token };
}

/** The URL path of an MCPServer, or of the collection in a namespace. */
export function mcpServerPath(namespace: string, name?: string): string {
  const { group, version, plural } = MCPSERVER_RESOURCE;
  return `/apis/${group}/${version}/namespaces/${namespace}/${plural}${name === undefined ? '' : `/${name}`}`;
}
