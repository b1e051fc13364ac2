import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { tokenExchangeEnabled } from './facts.js';

/**
 * The spec view leaves out values equal to their CRD default (the API server fills them in, so
 * the user may never have written them): `scopes: "openid profile email groups"` is not a setting.
 */
export const tokenExchangeDisabledFields: Rule = {
  id: 'token-exchange-disabled-fields',
  description: 'spec.auth.tokenExchange is not configured while it is disabled (Muster ignores it then).',
  fix: 'Set spec.auth.tokenExchange.enabled to true, or remove the tokenExchange block.',
  defaults: { manifest: 'warn', admission: 'warn' },
  concerns: (spec) => spec.auth?.tokenExchange !== undefined,
  check: ({ spec }) => {
    const exchange = spec.auth?.tokenExchange;
    if (!exchange || tokenExchangeEnabled(spec)) return [];
    const configured = Object.keys(exchange).filter((name) => name !== 'enabled');
    return configured.length === 0
      ? []
      : [
          {
            field: ['spec', 'auth', 'tokenExchange', 'enabled'],
            message: `is not true, but spec.auth.tokenExchange sets ${listInWords(configured.sort())}, which Muster ignores while it is off: set it to true, or remove the block`,
            summary: 'is off: enable it or remove the block',
          },
        ];
  },
};
