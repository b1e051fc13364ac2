import type { Rule } from '../rule.js';
import { listInWords } from '../words.js';
import { tokenExchangeEnabled } from './facts.js';

export const tokenExchangeDisabledFields: Rule = {
  id: 'token-exchange-disabled-fields',
  description: 'spec.auth.tokenExchange is not configured while it is disabled (Muster ignores it then).',
  fix: 'Set spec.auth.tokenExchange.enabled to true, or remove the tokenExchange block.',
  defaults: { manifest: 'warn', admission: 'warn' },
  check: ({ spec }) => {
    const exchange = spec.auth?.tokenExchange;
    if (!exchange || tokenExchangeEnabled(spec)) return [];
    const configured = Object.keys(exchange).filter((name) => name !== 'enabled');
    return configured.length === 0
      ? []
      : [
          {
            field: ['spec', 'auth', 'tokenExchange', 'enabled'],
            message: `spec.auth.tokenExchange sets ${listInWords(configured.sort())} but is not enabled, so Muster ignores it: set spec.auth.tokenExchange.enabled to true, or remove the block`,
          },
        ];
  },
};
