import type { Rule } from '../rule.js';
import { tokenExchangeEnabled } from './facts.js';

const REQUIRED = [
  { name: 'dexTokenEndpoint', hint: "the remote Dex's token endpoint, e.g. https://dex.cluster-b.example.com/token" },
  { name: 'connectorId', hint: 'the ID of the OIDC connector on the remote Dex that trusts this cluster, e.g. cluster-a-dex' },
] as const;

/**
 * Without either field Muster does not exchange at all (ShouldUseTokenExchange,
 * internal/aggregator/connection_helper.go), and the server is left without the identity meant for it.
 */
export const tokenExchangeRequiredFields: Rule = {
  id: 'token-exchange-required-fields',
  description: 'Enabled token exchange has spec.auth.tokenExchange.dexTokenEndpoint and connectorId.',
  fix: 'Set dexTokenEndpoint and connectorId under spec.auth.tokenExchange, or disable token exchange.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: tokenExchangeEnabled,
  check: ({ spec }) => {
    const exchange = spec.auth?.tokenExchange;
    if (!exchange || !tokenExchangeEnabled(spec)) return [];
    return REQUIRED.filter(({ name }) => !exchange[name]).map(({ name, hint }) => ({
      field: ['spec', 'auth', 'tokenExchange', name],
      message: `is required when token exchange is enabled: set it to ${hint}`,
      summary: 'is required for token exchange',
    }));
  },
};
