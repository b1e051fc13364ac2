import type { Rule } from '../rule.js';
import { argsStdioOnly } from './args-stdio-only.js';
import { authRemoteOnly } from './auth-remote-only.js';
import { authorizationServerForwardTokenConflict } from './authorization-server-forward-token-conflict.js';
import { authorizationServerIssuer } from './authorization-server-issuer.js';
import { authorizationServerOauthOnly } from './authorization-server-oauth-only.js';
import { authorizationServerOverride } from './authorization-server-override.js';
import { authorizationServerTokenExchangeConflict } from './authorization-server-token-exchange-conflict.js';
import { credentialOverPlaintext } from './credential-over-plaintext.js';
import { forwardTokenWithTokenExchange } from './forward-token-with-token-exchange.js';
import { headerDuplicateName } from './header-duplicate-name.js';
import { headerLiteralCredential } from './header-literal-credential.js';
import { headerSyntax } from './header-syntax.js';
import { headerUnresolvedPlaceholder } from './header-unresolved-placeholder.js';
import { headersRemoteOnly } from './headers-remote-only.js';
import { plaintextUrl } from './plaintext-url.js';
import { remoteUrlRequired } from './remote-url-required.js';
import { requiredAudiencesWithoutForwardToken } from './required-audiences-without-forward-token.js';
import { schemaViolation } from './schema-violation.js';
import { stdioCommandRequired } from './stdio-command-required.js';
import { tokenExchangeDisabledFields } from './token-exchange-disabled-fields.js';
import { tokenExchangeRequiredFields } from './token-exchange-required-fields.js';
import { unknownField } from './unknown-field.js';

/** The rule catalogue, in the order README documents it. */
export const RULES: readonly Rule[] = [
  schemaViolation,
  unknownField,
  stdioCommandRequired,
  remoteUrlRequired,
  argsStdioOnly,
  headersRemoteOnly,
  authRemoteOnly,
  authorizationServerOauthOnly,
  authorizationServerForwardTokenConflict,
  authorizationServerTokenExchangeConflict,
  authorizationServerIssuer,
  tokenExchangeRequiredFields,
  headerUnresolvedPlaceholder,
  headerLiteralCredential,
  credentialOverPlaintext,
  headerSyntax,
  headerDuplicateName,
  requiredAudiencesWithoutForwardToken,
  tokenExchangeDisabledFields,
  forwardTokenWithTokenExchange,
  authorizationServerOverride,
  plaintextUrl,
];

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);
