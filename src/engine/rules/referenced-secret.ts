import type { RuleFinding, Rule } from '../rule.js';
import type { SpecView } from '../spec-view.js';
import { tokenExchangeEnabled } from './facts.js';

const REF = ['spec', 'auth', 'tokenExchange', 'clientCredentialsSecretRef'] as const;

/** The Secret reference Muster reads: only while token exchange is enabled. */
function secretRef(spec: SpecView) {
  return tokenExchangeEnabled(spec) ? spec.auth?.tokenExchange?.clientCredentialsSecretRef : undefined;
}

/**
 * Muster reads the client credentials for a token exchange from this Secret only when a user
 * first calls a tool (loadTokenExchangeCredentials in internal/aggregator/connection_helper.go,
 * giantswarm/muster), defaulting to the MCPServer's namespace; a missing Secret shows up then,
 * and a Secret in another namespace needs RBAC there. Checked against the Secrets' metadata
 * only: the webhook never reads a Secret's data.
 */
export const referencedSecret: Rule = {
  id: 'referenced-secret',
  description: 'The Secret named by spec.auth.tokenExchange.clientCredentialsSecretRef exists; one in another namespace is noted, since Muster needs RBAC there.',
  fix: 'Create the Secret (keys client-id and client-secret unless clientIdKey and clientSecretKey say otherwise), or fix its name and namespace.',
  defaults: { manifest: 'off', admission: 'warn' },
  needs: 'secrets',
  concerns: (spec) => secretRef(spec) !== undefined,
  check: ({ spec, fleet }) => {
    const ref = secretRef(spec);
    if (!fleet?.secrets || !ref?.name) return [];
    const namespace = ref.namespace || fleet.namespace || 'default';
    const findings: RuleFinding[] = [];
    if (!fleet.secrets.has(namespace, ref.name)) {
      findings.push({
        field: [...REF, 'name'],
        message: `names the Secret ${namespace}/${ref.name}, which does not exist: Muster reads it when a user first calls a tool on this server, and the token exchange fails then: create the Secret, or fix the name`,
        summary: 'no such Secret: create it or fix',
      });
    }
    if (ref.namespace && ref.namespace !== fleet.namespace) {
      findings.push({
        field: [...REF, 'namespace'],
        message: `is ${ref.namespace}, not this MCPServer's namespace: Muster's service account needs RBAC to get Secrets in ${ref.namespace}`,
        summary: "needs Muster's RBAC there",
      });
    }
    return findings;
  },
};
