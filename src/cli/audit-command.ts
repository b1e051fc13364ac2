import { judgedFields, needsSecrets, Policy, secretIndex, type SecretIndex } from '../engine/index.js';
import { auditObjects, policyNeedsNamespaceLabels } from '../audit/audit.js';
import type { ClusterConnection, Labels } from '../cluster/connection.js';

type ClusterModule = typeof import('../cluster/connection.js');
import { EXIT, UsageError, oneOf, parseCommandArgs, wantsColor, type CliIO } from './io.js';
import { formatJson } from './output/json.js';
import { formatText } from './output/text.js';
import { loadPolicyFile } from './policy-file.js';

export const AUDIT_USAGE = `Usage: mcpserver-webhook audit [options]

Lists the MCPServers already in the cluster and judges each as the webhook would if it were
written now (the admission context), with the policy in force. Connects with the pod's service
account when running in a pod, with your kubeconfig otherwise.

Options:
  -n, --namespace NS     only this namespace (default: all namespaces)
  -l, --selector QUERY   only MCPServers whose labels match, e.g. team=search,tier!=dev
  -o, --output FORMAT    text (default) or json
      --policy FILE      policy file (YAML or JSON); default: the built-in policy
      --kubeconfig FILE  kubeconfig to use; default: $KUBECONFIG, else the pod's service
                         account when in a pod, else ~/.kube/config
      --context NAME     kubeconfig context to use; default: its current-context
      --secrets          also list the Secrets' metadata (never their data) to check
                         referenced-secret; needs list on secrets; default: off, the rule is
                         reported as not checked
  -h, --help             show this help

Exit status: 0 when nothing is denied, 1 when anything is denied, 2 for a usage error or when
the cluster could not be read (no kubeconfig, unreachable, credentials rejected, RBAC, no CRD).
`;

const OUTPUTS = ['text', 'json'] as const;
type Output = (typeof OUTPUTS)[number];

interface AuditArguments {
  readonly namespace: string | undefined;
  readonly selector: string | undefined;
  readonly output: Output;
  readonly policyFile: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly secrets: boolean;
}

function parseAuditArguments(args: string[]): AuditArguments | 'help' {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      selector: { type: 'string', short: 'l' },
      output: { type: 'string', short: 'o', default: 'text' },
      policy: { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      secrets: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`audit reads the cluster and takes no paths (${positionals.join(' ')}); to check files use validate`);
  const output = oneOf('--output', OUTPUTS, values.output);
  for (const flag of ['namespace', 'selector', 'policy', 'kubeconfig', 'context'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} needs a value`);
  }
  return {
    namespace: values.namespace,
    selector: values.selector,
    output,
    policyFile: values.policy,
    kubeconfig: values.kubeconfig,
    context: values.context,
    secrets: values.secrets === true,
  };
}

export async function runAudit(args: string[], io: CliIO): Promise<number> {
  const parsed = parseAuditArguments(args);
  if (parsed === 'help') {
    io.stdout.write(AUDIT_USAGE);
    return EXIT.ok;
  }
  const policy = parsed.policyFile ? await loadPolicyFile(parsed.policyFile) : Policy.builtIn();

  // Loaded here, not at the top: the Kubernetes client adds most of a second to every start
  // of the CLI, and only this command needs it.
  const cluster = await import('../cluster/connection.js');
  let objects: readonly unknown[];
  let namespaceLabels: ReadonlyMap<string, Labels> | undefined;
  let secrets: SecretIndex | undefined;
  try {
    const connection = cluster.connect({
      env: io.env,
      ...(parsed.kubeconfig ? { kubeconfig: parsed.kubeconfig } : {}),
      ...(parsed.context ? { context: parsed.context } : {}),
    });
    objects = (
      await cluster.listMCPServers(connection, {
        // Page by page, each object cut down to what the rules read: no full object is kept.
        keep: judgedFields,
        ...(parsed.namespace ? { namespace: parsed.namespace } : {}),
        ...(parsed.selector ? { labelSelector: parsed.selector } : {}),
      })
    ).items;
    if (objects.length > 0 && policyNeedsNamespaceLabels(policy)) namespaceLabels = await readNamespaceLabels(cluster, connection, parsed.namespace, io);
    if (parsed.secrets && objects.some((object) => needsSecrets(object))) secrets = await readSecrets(cluster, connection, io);
  } catch (error) {
    if (!(error instanceof cluster.ClusterError)) throw error;
    io.stderr.write(`mcpserver-webhook audit: ${error.message}\n`);
    return EXIT.usage;
  }

  const report = auditObjects(objects, policy, namespaceLabels, secrets);
  io.stdout.write(parsed.output === 'json' ? formatJson(report) : formatText(report, wantsColor(io)));
  return report.summary.denied > 0 ? EXIT.denied : EXIT.ok;
}

/**
 * Which Secrets exist, from their metadata (never their data), for the rule referenced-secret.
 * An auditor that may not list Secrets still gets an audit, told once what it is missing.
 */
async function readSecrets(cluster: ClusterModule, connection: ClusterConnection, io: CliIO): Promise<SecretIndex | undefined> {
  try {
    return secretIndex((await cluster.listSecretsMetadata(connection)).items);
  } catch (error) {
    if (!(error instanceof cluster.ClusterError && error.kind === 'forbidden')) throw error;
    io.stderr.write(`mcpserver-webhook audit: warning: cannot list Secrets (${error.message}); referenced-secret is not checked in this audit\n`);
    return undefined;
  }
}

/**
 * Namespace labels only sharpen the policy's selectors, so an auditor that may not list
 * namespaces still gets an audit, told once what it is missing.
 */
async function readNamespaceLabels(
  cluster: ClusterModule,
  connection: ClusterConnection,
  namespace: string | undefined,
  io: CliIO,
): Promise<ReadonlyMap<string, Labels> | undefined> {
  try {
    return await cluster.listNamespaceLabels(connection, namespace);
  } catch (error) {
    if (!(error instanceof cluster.ClusterError && error.kind === 'forbidden')) throw error;
    io.stderr.write(
      `mcpserver-webhook audit: warning: cannot read namespace labels (${error.message}); the policy's entries with a label selector match no namespace in this audit\n`,
    );
    return undefined;
  }
}
