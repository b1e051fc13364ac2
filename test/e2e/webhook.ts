import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ValidatingWebhook, V1ValidatingWebhookConfiguration } from '@kubernetes/client-node';
import { eventually, startChildServer, type BuildOptions, type ChildServer, type LogLine } from '../server/child-server.js';
import { templateDocuments, templateText } from '../charts/chart-files.js';
import { endpoint, mcpServerPath, type Clients } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import { request } from './kube-http.js';
import { track } from './processes.js';

/**
 * `mcpserver-webhook serve` as a user runs it outside a cluster, from the built dist/: on the
 * loopback address, with a development certificate for 127.0.0.1 in a folder of its own.
 */
export async function startWebhook(
  certDir: string,
  options: { port?: number; args?: readonly string[]; env?: NodeJS.ProcessEnv; build?: BuildOptions } = {},
): Promise<ChildServer> {
  const server = await startChildServer(
    [
      '--host', '127.0.0.1',
      '--port', String(options.port ?? 0),
      '--cert-dir', certDir,
      '--dev-certs',
      '--dev-cert-host', '127.0.0.1',
      // A stop in a test need not wait for the 20 s a rolling update gets.
      '--shutdown-grace', '1',
      ...(options.args ?? []),
    ],
    options.env,
    options.build,
  );
  track(server.process);
  return server;
}

/** The CA of the development certificate in `certDir`: the webhook configuration's caBundle. */
export function webhookCa(certDir: string): string {
  return readFileSync(join(certDir, 'ca.crt'), 'utf8');
}

/** The decision log lines (`"event": "admission"`) written so far. */
export function decisions(server: ChildServer): LogLine[] {
  return server.logs().filter((line) => line.event === 'admission');
}

/** The webhook's name in the chart, which the API server quotes in its messages. */
export const WEBHOOK_NAME = 'mcpservers.muster.giantswarm.io';

/**
 * The chart's ValidatingWebhookConfiguration, pointed at `https://127.0.0.1:PORT/validate` by URL
 * instead of a Service, with failurePolicy Fail. DELETE is sent too, which the chart does not ask
 * for, to show that the webhook lets it through.
 */
export function webhookConfiguration(port: number, ca: string): V1ValidatingWebhookConfiguration {
  const [chart] = templateDocuments(templateText('validatingwebhookconfiguration.yaml')) as unknown as V1ValidatingWebhookConfiguration[];
  const webhook = chart?.webhooks?.[0];
  if (!webhook || webhook.name !== WEBHOOK_NAME) throw new Error(`the chart's webhook configuration no longer has the webhook ${WEBHOOK_NAME}`);
  const rules = (webhook.rules ?? []).map((rule) => ({ ...rule, operations: [...(rule.operations ?? []), 'DELETE'] }));
  const { namespaceSelector: _chartSelector, objectSelector: _chartObjectSelector, ...fixed } = webhook;
  const registered: V1ValidatingWebhook = {
    ...fixed,
    clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle: Buffer.from(ca).toString('base64') },
    failurePolicy: 'Fail',
    timeoutSeconds: 10,
    rules,
  };
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'mcpserver-webhook' }, webhooks: [registered] };
}

/** Registers the webhook; the API server takes a moment to start calling it (see `untilCalled`). */
export async function registerWebhook(clients: Clients, port: number, ca: string): Promise<void> {
  await clients.admission.createValidatingWebhookConfiguration({ body: webhookConfiguration(port, ca) });
}

/**
 * Waits until the API server calls the webhook: a server-side dry run of a valid MCPServer with a
 * new name, repeated until the decision log has a line for one of them. The API server picks up a
 * new webhook configuration, and notices a webhook that is back, within a second or two.
 */
export async function untilWebhookCalled(plane: ControlPlane, server: ChildServer, namespace: string): Promise<void> {
  await eventually(
    async () => {
      const name = `probe-${randomUUID().slice(0, 8)}`;
      const answer = await request(endpoint(plane), 'POST', mcpServerPath(namespace), {
        query: { dryRun: 'All' },
        body: { apiVersion: 'muster.giantswarm.io/v1alpha1', kind: 'MCPServer', metadata: { name, namespace }, spec: { type: 'stdio', command: 'probe' } },
      });
      if (answer.status >= 500) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return decisions(server).some((line) => line.name === name) ? true : undefined;
    },
    30_000,
    250,
  );
}
