import { dump } from 'js-yaml';
import { ADMISSION_POLICY_API_VERSIONS, Policy, compileAdmissionPolicy, type CompiledAdmissionPolicy } from '../engine/index.js';
import { EXIT, UsageError, oneOf, parseCommandArgs, type CliIO } from './io.js';
import { loadPolicyFile } from './policy-file.js';

export const VAP_USAGE = `Usage: mcpserver-webhook vap [options]

Prints ValidatingAdmissionPolicies and their bindings (YAML) that make the API server enforce,
in process, every rule of the policy that CEL can express, as the policy sets it at admission:
deny, warn and audit become the validation actions Deny, Warn and Audit, and namespace overrides
conditions on the namespace. With the webhook down, or where no webhook is allowed, the API
server still stops those mistakes. A comment at the top lists the rules left to the webhook, and
why. Apply the output with kubectl apply -f -.

Options:
      --policy FILE        policy file (YAML or JSON); default: the built-in policy
      --api-version NAME   v1 (default; Kubernetes 1.30 and later) or v1beta1 (1.28 and 1.29)
      --name NAME          prefix of the objects' names; default: mcpserver-webhook
  -h, --help               show this help

Exit status: 0, or 2 for a usage error or a policy file that cannot be read.
`;

export async function runVap(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      'api-version': { type: 'string', default: 'v1' },
      name: { type: 'string', default: 'mcpserver-webhook' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(VAP_USAGE);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`takes no arguments, only options (got ${JSON.stringify(positionals[0])})`);
  const apiVersion = oneOf('--api-version', ADMISSION_POLICY_API_VERSIONS, values['api-version']);
  const name = values.name ?? 'mcpserver-webhook';
  // A DNS subdomain, less the room the action suffix takes.
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 240) throw new UsageError('--name must be lowercase letters, digits and -, starting and ending with a letter or digit');
  const policy = values.policy ? await loadPolicyFile(values.policy) : Policy.builtIn();
  io.stdout.write(formatAdmissionPolicy(compileAdmissionPolicy({ policy, apiVersion, name }), policy.source));
  return EXIT.ok;
}

/** The documents as YAML, after a comment that says where they come from and what they leave out. */
export function formatAdmissionPolicy(compiled: CompiledAdmissionPolicy, source: string): string {
  const width = Math.max(...compiled.notExpressed.map(({ rule }) => rule.length));
  const header = [
    `# ValidatingAdmissionPolicies compiled by mcpserver-webhook vap from the ${source} policy (its admission actions).`,
    `# Enforced by the API server: ${compiled.enforced.join(', ')}.`,
    '# Not expressed here, left to the webhook:',
    ...compiled.notExpressed.map(({ rule, reason }) => `#   ${rule.padEnd(width)}  ${reason}`),
  ];
  const documents = compiled.documents.map((document) => dump(document, { lineWidth: -1, noRefs: true }));
  return `${header.join('\n')}\n---\n${documents.join('---\n')}`;
}
