/**
 * The Helm chart, checked without helm (which these machines cannot install): the files exist,
 * the plain YAML parses, the values satisfy their schema and the schema refuses mistakes, the
 * templates refer only to values that exist, and the chart passes only settings that `serve`
 * reads. Rendering is not checked here: docs/helm.md says what was and was not verified.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { Ajv } from 'ajv';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import { repositoryFile } from '../fixtures.js';
import {
  chartText,
  hasPath,
  isTree,
  leafPaths,
  loadValues,
  readText,
  templateDocuments,
  templateNames,
  templateText,
  uncommentedKeys,
  valuesReferences,
  withoutTemplateComments,
  type Tree,
} from './chart-files.js';
import { deniedMessage, kubectlOutput } from '../admission/kubectl-output.js';

const values = loadValues();
const example = load(readFileSync(repositoryFile('examples/invalid/credential-over-plaintext.yaml'), 'utf8'));
const schema = JSON.parse(chartText('values.schema.json')) as Tree;
const validateValues = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** The values with one change: `path` set to `value`, or removed when `value` is undefined. */
function valuesWith(path: string, value: unknown): Tree {
  const copy = structuredClone(values);
  const keys = path.split('.');
  let node: Tree = copy;
  for (const key of keys.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function schemaErrors(candidate: unknown): string[] {
  return validateValues(candidate) ? [] : (validateValues.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

describe('chart files', () => {
  it('has every template the chart is made of', () => {
    expect(templateNames()).toEqual(
      expect.arrayContaining([
        'NOTES.txt',
        '_helpers.tpl',
        'certificates-cert-manager.yaml',
        'certificates-self-signed.yaml',
        'deployment.yaml',
        'networkpolicy.yaml',
        'poddisruptionbudget.yaml',
        'policy-configmap.yaml',
        'rbac.yaml',
        'service.yaml',
        'serviceaccount.yaml',
        'servicemonitor.yaml',
        'validatingwebhookconfiguration.yaml',
      ]),
    );
    expect(readdirSync(repositoryFile('charts/mcpserver-webhook')).sort()).toEqual(
      expect.arrayContaining(['Chart.yaml', 'templates', 'values.schema.json', 'values.yaml']),
    );
  });

  it('has a Chart.yaml for Helm 3 whose appVersion is the package version', () => {
    const chart = load(chartText('Chart.yaml')) as Tree;
    const { version } = JSON.parse(readText('package.json')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'mcpserver-webhook', version: '0.1.0', appVersion: version, kubeVersion: '>=1.25.0-0' });
    expect(chart.description).toEqual(expect.any(String));
  });

  it('has a helper for each conventional name', () => {
    const helpers = templateText('_helpers.tpl');
    for (const name of ['name', 'fullname', 'chart', 'labels', 'selectorLabels', 'serviceAccountName', 'namespaceSelector']) {
      expect(helpers, name).toContain(`{{- define "mcpserver-webhook.${name}" -}}`);
    }
  });
});

describe('values.yaml', () => {
  it('explains every value in a comment', () => {
    expect(uncommentedKeys(chartText('values.yaml'))).toEqual([]);
  });

  it('finds a value without a comment (the check itself)', () => {
    expect(uncommentedKeys('# -- documented\na: 1\nb:\n  # -- documented\n  c: 2\n  d: 3\nlist:\n  - e: 4\n')).toEqual(['b', 'b.d', 'list']);
  });

  it('satisfies values.schema.json', () => {
    expect(schemaErrors(values)).toEqual([]);
  });

  it('has the defaults the operations guide relies on', () => {
    expect(values).toMatchObject({
      replicaCount: 2,
      webhook: { failurePolicy: 'Fail', timeoutSeconds: 5 },
      certificates: { mode: 'certManager' },
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      topologySpread: { enabled: true, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
      podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
  });
});

describe('values.schema.json', () => {
  it.each([
    ['webhook.failurePolicy', 'Maybe', 'must be equal to one of the allowed values'],
    ['webhook.timeoutSeconds', 31, 'must be <= 30'],
    ['webhook.timeoutSeconds', 0, 'must be >= 1'],
    ['replicasCount', 3, 'must NOT have additional properties'],
    ['webhook.failurPolicy', 'Fail', 'must NOT have additional properties'],
    ['certificates.mode', 'letsEncrypt', 'must be equal to one of the allowed values'],
    ['certificates.mode', 'existingSecret', 'must NOT have fewer than 1 characters'],
    ['certificates', { mode: 'existingSecret', existingSecret: { name: 'webhook-tls', caBundle: '-----BEGIN CERTIFICATE-----' } }, 'must match pattern'],
    ['certificates.certManager.issuerRef', { name: 'my-ca' }, "must have required property 'kind'"],
    ['policy', { rules: { 'plaintext-urll': 'deny' } }, 'must be equal to one of the allowed values'],
    ['policy', { rule: { 'plaintext-url': 'deny' } }, 'must NOT have additional properties'],
    ['topologySpread.whenUnsatisfiable', 'Never', 'must be equal to one of the allowed values'],
    ['server.logLevel', 'verbose', 'must be equal to one of the allowed values'],
  ])('refuses %s: %j', (path, value, message) => {
    expect(schemaErrors(valuesWith(path, value)).join('\n')).toContain(message);
  });

  it.each([
    ['webhook.failurePolicy', 'Ignore'],
    ['webhook.timeoutSeconds', 30],
    ['certificates.mode', 'selfSigned'],
    ['certificates', { mode: 'existingSecret', existingSecret: { name: 'webhook-tls', caBundle: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==' } }],
    ['certificates.certManager.issuerRef', { name: 'cluster-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' }],
    ['policy', { version: 1, rules: { 'plaintext-url': 'deny' }, namespaces: [{ names: ['sandbox'], rules: { 'authorization-server-override': 'audit' } }] }],
    // A parent chart passes its global values to every dependency.
    ['global', { imageRegistry: 'registry.example.com' }],
  ])('accepts %s: %j', (path, value) => {
    expect(schemaErrors(valuesWith(path, value))).toEqual([]);
  });

  it('closes every object it declares, so that a misspelt key fails the install', () => {
    const open: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((item, index) => walk(item, `${where}/${index}`));
      if (!isTree(node)) return;
      if (node.type === 'object' && isTree(node.properties) && node.additionalProperties !== false) open.push(where);
      for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`);
    };
    walk(schema, '#');
    expect(open).toEqual([]);
  });

  it('holds the policy schema of schemas/policy.json, so that a broken policy fails the install', async () => {
    const policySchema = JSON.parse(readText('schemas/policy.json')) as Tree;
    const properties = schema.properties as Tree;
    expect((properties.policy as Tree).properties).toEqual(policySchema.properties);
    expect(schema.definitions).toEqual(policySchema.definitions);
    // And is what `npm run generate` writes, byte for byte.
    const generator = (await import(repositoryFile('scripts/generate.mjs').href)) as { chartValuesSchema(policy: unknown): Promise<unknown>; schemaText(schema: unknown): string };
    expect(chartText('values.schema.json'), 'run `npm run generate`').toBe(generator.schemaText(await generator.chartValuesSchema(policySchema)));
  });
});

describe('templates', () => {
  const templates = templateNames().map((name) => ({ name, text: templateText(name) }));

  it('refer only to values that values.yaml defines', () => {
    const missing = templates.flatMap(({ name, text }) => valuesReferences(text).filter((path) => !hasPath(values, path)).map((path) => `${name}: .Values.${path}`));
    expect(missing).toEqual([]);
    expect(templates.flatMap(({ text }) => valuesReferences(text)).length).toBeGreaterThan(50);
  });

  it('finds a reference to a value that does not exist, and ignores comments (the check itself)', () => {
    const text = '{{ .Values.webhook.failurPolicy }} {{/* .Values.nothing.here */}} {{- /* .Values.nor.this */ -}} {{ $.Values.replicaCount }}';
    expect(valuesReferences(text)).toEqual(['replicaCount', 'webhook.failurPolicy']);
    expect(hasPath(values, 'webhook.failurPolicy')).toBe(false);
    expect(hasPath(values, 'replicaCount')).toBe(true);
  });

  it('mount no volume with subPath, which the kubelet never updates (policy and certificate reloads need updates)', () => {
    for (const { name, text } of templates) expect(withoutTemplateComments(text), name).not.toMatch(/^\s*subPath:/m);
  });

  it('give the container its certificates at /certs and its policy as a mounted directory', () => {
    const deployment = templateText('deployment.yaml');
    expect(deployment).toMatch(/- name: CERT_DIR\n\s+value: \/certs\n/);
    expect(deployment).toMatch(/- name: certificates\n\s+mountPath: \/certs\n/);
    expect(deployment).toMatch(/- name: POLICY_FILE\n\s+value: \{\{ include "mcpserver-webhook.policyDir" \. \}\}\/policy\.yaml\n/);
    expect(deployment).toMatch(/- name: policy\n\s+mountPath: \{\{ include "mcpserver-webhook.policyDir" \. \}\}\n/);
    expect(deployment).toContain('path: /healthz');
    expect(deployment).toContain('path: /readyz');
  });
});

describe('the ValidatingWebhookConfiguration', () => {
  const text = templateText('validatingwebhookconfiguration.yaml');
  const [configuration] = templateDocuments(text);
  const webhooks = (configuration?.webhooks ?? []) as Tree[];

  it('registers one webhook for CREATE and UPDATE of namespaced mcpservers, with the fields the API server needs', () => {
    expect(configuration).toMatchObject({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration' });
    expect(webhooks).toHaveLength(1);
    expect(webhooks[0]).toMatchObject({
      name: 'mcpservers.muster.giantswarm.io',
      admissionReviewVersions: ['v1', 'v1beta1'],
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      clientConfig: { service: { path: '/validate' } },
      rules: [{ apiGroups: ['muster.giantswarm.io'], apiVersions: ['v1alpha1'], resources: ['mcpservers'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
    });
    expect(text).toContain('failurePolicy: {{ .Values.webhook.failurePolicy }}');
    expect(text).toContain('timeoutSeconds: {{ .Values.webhook.timeoutSeconds }}');
  });

  it('always leaves out kube-system and the release namespace, then the opt-out label, then the user\'s expressions', () => {
    expect(text).toContain('{{- include "mcpserver-webhook.namespaceSelector" . | nindent 6 }}');
    const helpers = templateText('_helpers.tpl');
    const selector = helpers.slice(helpers.indexOf('define "mcpserver-webhook.namespaceSelector"'));
    expect(selector).toContain('(list "kube-system" .Release.Namespace)');
    expect(selector).toMatch(/key: kubernetes\.io\/metadata\.name\n\s+operator: NotIn/);
    expect(selector).toMatch(/ignoreLabel \}\}\n\s+- key: \{\{ \. \}\}\n\s+operator: DoesNotExist/);
    expect(selector.indexOf('DoesNotExist')).toBeLessThan(selector.indexOf('.Values.webhook.namespaceSelector.matchExpressions'));
  });

  it('lets cert-manager inject the caBundle in certManager mode', () => {
    expect(text).toContain('"cert-manager.io/inject-ca-from" (printf "%s/%s" .Release.Namespace (include "mcpserver-webhook.certificateName" .))');
    expect(text).toContain('caBundle: {{ . }}');
  });
});

describe('RBAC', () => {
  const documents = templateDocuments(templateText('rbac.yaml'));
  const rulesOf = (kind: string): unknown => documents.find((document) => document.kind === kind)?.rules;

  it('grants the continuous audit exactly what it uses, and nothing to admission', () => {
    expect(rulesOf('ClusterRole')).toEqual([
      { apiGroups: ['muster.giantswarm.io'], resources: ['mcpservers'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    ]);
    expect(rulesOf('Role')).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]);
    expect(documents.map((document) => document.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(templateText('rbac.yaml')).toMatch(/^\{\{- if and \.Values\.rbac\.create \.Values\.audit\.enabled \}\}/);
  });

  it('grants the fleet view read access to MCPServers, and to Secrets (list and watch, for their metadata) only when asked', () => {
    const fleet = templateDocuments(templateText('rbac-fleet.yaml'));
    expect(fleet.map((document) => document.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding']);
    expect(fleet[0]?.rules).toEqual([
      { apiGroups: ['muster.giantswarm.io'], resources: ['mcpservers'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
    ]);
    expect(templateText('rbac-fleet.yaml')).toMatch(/^\{\{- if and \.Values\.rbac\.create \(or \.Values\.fleet\.enabled \.Values\.fleet\.secrets\.enabled\) \}\}/);
    expect(templateText('rbac-fleet.yaml')).toMatch(/\{\{- if \.Values\.fleet\.secrets\.enabled \}\}\n  - apiGroups: \[""\]\n    resources: \["secrets"\]/);
  });
});

describe('the chart and the code agree', () => {
  const deployment = templateText('deployment.yaml');
  const serveSource = readText('src/cli/serve-command.ts');
  /** Where `serve` and the continuous audit read their settings. */
  const settingsSources = [
    serveSource,
    ...['src/server', 'src/audit'].flatMap((folder) =>
      readdirSync(repositoryFile(folder), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => readText(`${folder}/${file}`)),
    ),
  ].join('\n');
  const environment = [...deployment.matchAll(/^\s*- name: ([A-Z][A-Z0-9_]*)\s*$/gm)].map((match) => match[1]!);
  const flags = [...deployment.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]);
  const reads = (variable: string): boolean => new RegExp(`['"\`]${variable}['"\`]|env\\.${variable}\\b`).test(settingsSources);
  /** Names the contract with the continuous audit adds; checked once serve has an --audit option. */
  const auditContract = ['AUDIT', 'POD_NAME', 'POD_NAMESPACE'];
  const auditLanded = /['"]?\baudit['"]?\s*:\s*\{\s*type:\s*'boolean'/.test(serveSource);

  it('passes the container only environment variables serve reads', () => {
    expect(environment).toEqual(expect.arrayContaining(['PORT', 'CERT_DIR', 'LOG_LEVEL', 'SHUTDOWN_GRACE_SECONDS', 'METRICS_PORT', 'POLICY_FILE', 'CLIENT_CA_FILE']));
    const unknown = environment.filter((variable) => !auditContract.includes(variable) && !reads(variable));
    expect(unknown).toEqual([]);
    expect(reads('NO_SUCH_SETTING')).toBe(false);
  });

  it.runIf(auditLanded)('passes the audit settings that serve reads, once the continuous audit has landed', () => {
    expect(environment).toEqual(expect.arrayContaining(auditContract));
    expect(auditContract.filter((variable) => !reads(variable))).toEqual([]);
  });

  it('passes only flags serve knows, and runs the serve command', () => {
    for (const flag of flags) expect(serveSource, flag).toContain(`'${flag.slice(2)}'`);
    expect(deployment).toContain('args: ["serve"]');
    expect(readText('src/cli/main.ts')).toMatch(/^\s*serve: \{/m);
  });

  it('names only metrics the webhook exports, in the docs, README and chart', async () => {
    const exported = new Set((await new WebhookMetrics().registry.getMetricsAsJSON()).map((metric) => metric.name));
    const sourceNames = new Set([...settingsSources.matchAll(/mcpserver_webhook_[a-z_]+/g)].map((match) => match[0]));
    const documents = [...DOCUMENTS, 'charts/mcpserver-webhook/values.yaml'];
    const mentioned = new Set(
      [...documents.map(readText), ...templateNames().map(templateText)].flatMap((text) => [...text.matchAll(/mcpserver_webhook_[a-z_]+/g)].map((match) => match[0].replace(/_(bucket|sum|count)$/, ''))),
    );
    expect(mentioned.size).toBeGreaterThan(5);
    expect([...mentioned].filter((name) => !exported.has(name) && !sourceNames.has(name))).toEqual([]);
  });
});

/** README and every document of docs/, which quote the chart and the webhook. */
const DOCUMENTS = ['README.md', ...readdirSync(repositoryFile('docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

const valueAt = (path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node as Tree)[key], values);

describe('docs/helm.md', () => {
  const guide = readText('docs/helm.md');

  it('lists every value of values.yaml in its reference table, with its default', () => {
    const table = guide.slice(guide.indexOf('\n## Values\n'));
    const rows = new Map([...table.matchAll(/^\| `([^`]+)` \| `([^`]*)` \|/gm)].map((match) => [match[1]!, match[2]!.replace(/\\\|/g, '|')]));
    expect(leafPaths(values).filter((path) => !rows.has(path))).toEqual([]);
    expect(leafPaths(values).filter((path) => rows.get(path) !== JSON.stringify(valueAt(path)))).toEqual([]);
  });
});

describe('docs/reliability.md, rolling restarts', () => {
  const section = readText('docs/reliability.md').split('\n### Rolling restarts')[1]?.split('\n## ')[0] ?? '';
  /** The rows of its table of values: `| \`path\` | default | ... |`. */
  const documented = new Map([...section.matchAll(/^\| `([^`]+)` \| (\d+) s \|/gm)].map((match) => [match[1]!, Number(match[2])]));
  const seconds = (path: string): number => valueAt(path) as number;

  it('states the chart defaults a rollout relies on', () => {
    const paths = ['server.preStopSleepSeconds', 'server.shutdownGraceSeconds', 'webhook.timeoutSeconds', 'terminationGracePeriodSeconds'];
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(paths.map((path) => [path, seconds(path)])));
  });

  it('holds for the chart defaults: a preStop pause, a grace period that outlasts a review, and a pod that exits before it is killed', () => {
    expect(seconds('server.preStopSleepSeconds')).toBeGreaterThan(0);
    expect(seconds('server.shutdownGraceSeconds')).toBeGreaterThanOrEqual(seconds('webhook.timeoutSeconds'));
    expect(seconds('terminationGracePeriodSeconds')).toBeGreaterThan(seconds('server.preStopSleepSeconds') + seconds('server.shutdownGraceSeconds'));
  });

  it('is enforced by the Deployment template for any values', () => {
    const template = templateText('deployment.yaml');
    expect(template).toContain('{{- if lt (int .Values.server.shutdownGraceSeconds) (int .Values.webhook.timeoutSeconds) }}');
    expect(template).toContain('{{- if le (int .Values.terminationGracePeriodSeconds) (int $stopSeconds) }}');
  });
});

describe('the documents and the chart agree', () => {
  it.each(['README.md', 'docs/helm.md', 'docs/serve.md'])('%s shows what kubectl prints for the example it applies, as the engine words it today', (path) => {
    const text = readText(path);
    expect(text).toContain('kubectl apply -f examples/invalid/credential-over-plaintext.yaml');
    for (const line of kubectlOutput(example)) expect(text).toContain(line);
  });

  it('docs/operations.md shows the message Flux and Argo CD report for the example, as the engine words it today', () => {
    const operations = readText('docs/operations.md');
    expect(operations).toContain(`MCPServer/muster/token-over-http dry-run failed (Invalid): ${deniedMessage(example)}`);
    expect(operations).toContain(`one or more objects failed to apply, reason: error when creating`);
  });

  it("says what --audit defaults to in the chart as values.yaml has it: one source decides", () => {
    const enabled = JSON.stringify(valueAt('audit.enabled'));
    const rows = DOCUMENTS.flatMap((path) => [...readText(path).matchAll(/^\| `--audit` +\|[^|]*\| ([^|]+) \|/gm)].map((match) => ({ path, cell: match[1]! })));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const { path, cell } of rows) expect(cell, path).toContain(`the Helm chart's \`audit.enabled\` (default \`${enabled}\`)`);
  });

  it('quotes every chart default it names as `value` (default `x`) as values.yaml has it', () => {
    const quoted = DOCUMENTS.flatMap((path) =>
      [...readText(path).matchAll(/`([a-zA-Z]+(?:\.[a-zA-Z]+)+)` \(default `([^`]*)`\)/g)].map((match) => ({ path, value: match[1]!, stated: match[2]! })),
    ).filter(({ value }) => hasPath(values, value));
    expect(quoted.length).toBeGreaterThan(0);
    for (const { path, value, stated } of quoted) expect(stated, `${path}: ${value}`).toBe(JSON.stringify(valueAt(value)).replace(/^"|"$/g, ''));
  });
});

describe('NOTES.txt', () => {
  it('shows what kubectl prints for the check it suggests, as the engine words it today', () => {
    const notes = templateText('NOTES.txt');
    // The here-document ends at a line that is exactly EOF, or a shell would read on.
    const manifest = /<<'EOF'\n([\s\S]*?)\nEOF\n/.exec(notes)?.[1];
    expect(manifest).toBeDefined();
    const object = load(manifest!) as Tree;
    const lines = kubectlOutput(object);
    expect(lines.some((line) => line.startsWith('The MCPServer "mcpserver-webhook-check" is invalid: spec.url: '))).toBe(true);
    for (const line of lines) expect(notes).toContain(line);
    expect(notes).toContain('kubectl apply --dry-run=server');
    expect(notes).toContain('kubectl get pods');
  });
});
