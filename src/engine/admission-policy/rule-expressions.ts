import type { Rule } from '../rule.js';
import type { SchemaNode } from '../schema.js';

/**
 * Our rules as CEL, for the ValidatingAdmissionPolicy that `mcpserver-webhook vap` prints: each
 * expression is true where the rule finds nothing, over the `object` a ValidatingAdmissionPolicy
 * is given (the MCPServer as the API server will store it: CRD defaults filled in, its schema and
 * CEL rules passed). Each says exactly what the rule's check says on every such object
 * (test/engine/admission-policy/equivalence.test.ts holds them to it on random MCPServers), and
 * reads the same facts the rules read from rules/facts.ts. A rule without an expression is listed
 * with the reason CEL cannot say it (NOT_EXPRESSIBLE).
 */
export interface RuleExpression {
  /** True where the rule finds nothing. */
  readonly expression: string;
  /**
   * A CEL expression for the failure message: the field as the webhook names it, a few words
   * (the finding's summary), and the rule ID. Never a header or env value.
   */
  readonly message: string;
  /**
   * For a rule that reports on more than one field: the expression with ratcheting field by field,
   * as the webhook ratchets (same rule, same field), over `oldObject` too. Absent: the rule reports
   * on one field, and ratcheting the rule as a whole is the same thing.
   */
  readonly ratcheted?: string;
}

/** `has()` down a path, so that reading the field never fails on a missing parent. */
function isSet(path: string): string {
  const parts = path.split('.');
  const steps = parts.slice(1).map((_, index) => `has(object.${parts.slice(0, index + 2).join('.')})`);
  return `(${steps.join(' && ')})`;
}

const isTrue = (path: string): string => `(${isSet(path)} && object.${path} == true)`;
const nonEmpty = (path: string): string => `(${isSet(path)} && object.${path} != '')`;
const typeIs = (...types: string[]): string => `(has(object.spec.type) && object.spec.type in [${types.map((type) => `'${type}'`).join(', ')}])`;
/** A CEL string literal for fixed words (single quotes; the words hold none). */
const text = (words: string): string => `'${words}'`;
const message = (field: string, words: string, rule: string): string => text(`${field}: ${words} [${rule}]`);

// The facts of rules/facts.ts, in CEL.
const IS_STDIO = typeIs('stdio');
const IS_REMOTE = typeIs('streamable-http', 'sse');
const OAUTH = `(${isSet('spec.auth.type')} && object.spec.auth.type == 'oauth')`;
const FORWARDS_TOKEN = isTrue('spec.auth.forwardToken');
const EXCHANGE_ENABLED = isTrue('spec.auth.tokenExchange.enabled');
const USES_EXCHANGE = `(${EXCHANGE_ENABLED} && ${nonEmpty('spec.auth.tokenExchange.dexTokenEndpoint')} && ${nonEmpty('spec.auth.tokenExchange.connectorId')})`;
const PER_USER_AUTH = `(${IS_REMOTE} && (${OAUTH} || ${FORWARDS_TOKEN} || ${USES_EXCHANGE}))`;
const OVERRIDE = isSet('spec.auth.authorizationServer');

// rules/header-syntax.ts: RFC 9110 tokens, and no control character but tab in a value.
const HEADER_NAME = 'r"^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$"';
const CONTROL_CHARACTER = 'r"[\\x00-\\x08\\x0a-\\x1f\\x7f]"';
const headerOk = (root: string): string => `(k.matches(${HEADER_NAME}) && !${root}.spec.headers[k].matches(${CONTROL_CHARACTER}))`;
const HEADER_OK = headerOk('object');
/** The old object had the same header, as wrong: its finding was on the same field. */
const HEADER_WAS_WRONG = `(oldObject != null && has(oldObject.spec.headers) && k in oldObject.spec.headers && !${headerOk('oldObject')})`;

/** The same expression over the object before the UPDATE. */
export function onOldObject(expression: string): string {
  return expression.replace(/\bobject\./g, 'oldObject.');
}

const EXCHANGE_FIELD_OK = (field: string): string =>
  `(${nonEmpty(`spec.auth.tokenExchange.${field}`)} || (oldObject != null && ${onOldObject(`${EXCHANGE_ENABLED} && !${nonEmpty(`spec.auth.tokenExchange.${field}`)}`)}))`;

/**
 * The expressions, by rule ID. `schema` is the MCPServer schema, for the CRD defaults that the
 * rules' view of the spec leaves out (token-exchange-disabled-fields).
 */
export function ruleExpressions(schema: SchemaNode): Readonly<Record<string, RuleExpression>> {
  return {
    'stdio-command-required': {
      expression: `!${IS_STDIO} || ${nonEmpty('spec.command')}`,
      message: message('spec.command', 'is required for stdio: set the executable', 'stdio-command-required'),
    },
    'remote-url-required': {
      expression: `!${IS_REMOTE} || ${nonEmpty('spec.url')}`,
      message: message('spec.url', 'is required for a remote server: set the endpoint', 'remote-url-required'),
    },
    'args-stdio-only': {
      expression: `!${IS_REMOTE} || !has(object.spec.args)`,
      message: message('spec.args', 'is only for stdio servers: remove it', 'args-stdio-only'),
    },
    'headers-remote-only': {
      expression: `!${IS_STDIO} || !has(object.spec.headers)`,
      message: message('spec.headers', 'is only for remote servers: use spec.env', 'headers-remote-only'),
    },
    'auth-remote-only': {
      expression: `!(${IS_STDIO} && ${OAUTH})`,
      message: message('spec.auth.type', 'oauth is only for remote servers: remove it', 'auth-remote-only'),
    },
    'authorization-server-oauth-only': {
      expression: `!${OVERRIDE} || ${OAUTH}`,
      message: message('spec.auth.authorizationServer', 'needs spec.auth.type: oauth', 'authorization-server-oauth-only'),
    },
    'authorization-server-forward-token-conflict': {
      expression: `!(${OVERRIDE} && ${FORWARDS_TOKEN})`,
      message: message('spec.auth.authorizationServer', 'drop it or forwardToken', 'authorization-server-forward-token-conflict'),
    },
    'authorization-server-token-exchange-conflict': {
      expression: `!(${OVERRIDE} && ${EXCHANGE_ENABLED})`,
      message: message('spec.auth.authorizationServer', 'drop it or tokenExchange', 'authorization-server-token-exchange-conflict'),
    },
    'token-exchange-required-fields': {
      expression: `!${EXCHANGE_ENABLED} || (${nonEmpty('spec.auth.tokenExchange.dexTokenEndpoint')} && ${nonEmpty('spec.auth.tokenExchange.connectorId')})`,
      message: `'spec.auth.tokenExchange.' + (${nonEmpty('spec.auth.tokenExchange.dexTokenEndpoint')} ? 'connectorId' : 'dexTokenEndpoint') + ': is required for token exchange [token-exchange-required-fields]'`,
      ratcheted: `!${EXCHANGE_ENABLED} || (${EXCHANGE_FIELD_OK('dexTokenEndpoint')} && ${EXCHANGE_FIELD_OK('connectorId')})`,
    },
    'header-syntax': {
      expression: `!has(object.spec.headers) || object.spec.headers.all(k, ${HEADER_OK})`,
      // The header's name, never its value.
      message: `'spec.headers[' + object.spec.headers.filter(k, !${HEADER_OK})[0] + ']: is not a valid header name, or its value holds a line break or control character [header-syntax]'`,
      ratcheted: `!has(object.spec.headers) || object.spec.headers.all(k, ${HEADER_OK} || ${HEADER_WAS_WRONG})`,
    },
    'required-audiences-unused': {
      expression: `!${isSet('spec.auth.requiredAudiences')} || ${FORWARDS_TOKEN} || ${USES_EXCHANGE}`,
      message: message('spec.auth.requiredAudiences', 'is unused: no forwardToken or token exchange', 'required-audiences-unused'),
    },
    'token-exchange-disabled-fields': {
      expression: `!${isSet('spec.auth.tokenExchange')} || ${EXCHANGE_ENABLED} || object.spec.auth.tokenExchange.all(k, k == 'enabled'${defaultedFields(schema, ['spec', 'auth', 'tokenExchange'])})`,
      message: message('spec.auth.tokenExchange.enabled', 'is off: enable it or remove the block', 'token-exchange-disabled-fields'),
    },
    'forward-token-with-token-exchange': {
      expression: `!(${FORWARDS_TOKEN} && ${EXCHANGE_ENABLED})`,
      message: message('spec.auth.forwardToken', 'does nothing with token exchange on: drop one', 'forward-token-with-token-exchange'),
    },
    'env-ignored-for-remote': {
      expression: `!${IS_REMOTE} || !has(object.spec.env)`,
      message: message('spec.env', 'is ignored for remote servers: remove it', 'env-ignored-for-remote'),
    },
    'headers-ignored-per-user': {
      expression: `!has(object.spec.headers) || !${PER_USER_AUTH}`,
      message: message('spec.headers', 'are not sent on per-user connections: remove them', 'headers-ignored-per-user'),
    },
    'sse-with-per-user-auth': {
      expression: `!${typeIs('sse')} || !${PER_USER_AUTH}`,
      message: message('spec.type', 'is sse, but per-user connections use streamable HTTP', 'sse-with-per-user-auth'),
    },
    'authorization-server-override': {
      expression: `!${OVERRIDE}`,
      message: message('spec.auth.authorizationServer', 'skips RFC 9728 discovery: review once', 'authorization-server-override'),
    },
  };
}

/**
 * ` || (k == 'scopes' && object.spec.auth.tokenExchange.scopes == '...')` for each field of the
 * object at `path` that has a scalar default: the rules' view of the spec leaves out a value equal
 * to its default (schema.ts, projectToSchema), so such a field is not a setting.
 */
function defaultedFields(schema: SchemaNode, path: readonly string[]): string {
  const node = path.reduce<SchemaNode | undefined>((parent, name) => parent?.properties?.[name], schema);
  return Object.entries(node?.properties ?? {})
    .filter(([, child]) => ['string', 'boolean', 'number'].includes(typeof child.default))
    .map(([name, child]) => ` || (k == '${name}' && object.${path.join('.')}.${name} == ${JSON.stringify(child.default)})`)
    .join('');
}

/** Why a rule has no expression: what it needs that a ValidatingAdmissionPolicy does not have. */
export function notExpressible(rule: Rule): string | undefined {
  if (rule.manifestOnly) return 'checks manifests only: in the cluster the API server applies the CRD itself';
  if (rule.needs === 'fleet') return 'looks at the other MCPServers, and a ValidatingAdmissionPolicy sees one object';
  if (rule.needs === 'secrets') return 'looks at the Secrets that exist, and a ValidatingAdmissionPolicy sees one object';
  return NOT_EXPRESSIBLE[rule.id];
}

const URL_PARSING = 'parses URLs as Muster does (the WHATWG URL parser), which no CEL function matches on every input';
const CREDENTIALS = 'recognises credentials and placeholders in header values by their formats, more than a CEL expression can say';

/** The rules of one object that CEL cannot say exactly, and why. */
const NOT_EXPRESSIBLE: Readonly<Record<string, string>> = {
  'required-audiences-format':
    "reports each entry by its index, and ratchets by it on UPDATE, where CEL's list macros give no index",
  'authorization-server-issuer': URL_PARSING,
  'expected-issuer-required': URL_PARSING,
  'plaintext-url': URL_PARSING,
  'credential-over-plaintext': `${URL_PARSING}, and ${CREDENTIALS}`,
  'header-literal-credential': CREDENTIALS,
  'header-unresolved-placeholder': CREDENTIALS,
  'header-duplicate-name':
    "compares header names case-insensitively in Unicode, where CEL's lowerAscii folds ASCII only, and pair by pair, which the API server's CEL cost limit refuses for a map of unbounded size",
};
