import type { Rule } from '../rule.js';
import { argsStdioOnly } from './args-stdio-only.js';
import { authRemoteOnly } from './auth-remote-only.js';
import { authorizationServerForwardTokenConflict } from './authorization-server-forward-token-conflict.js';
import { authorizationServerIssuer } from './authorization-server-issuer.js';
import { authorizationServerOauthOnly } from './authorization-server-oauth-only.js';
import { authorizationServerOverride } from './authorization-server-override.js';
import { authorizationServerTokenExchangeConflict } from './authorization-server-token-exchange-conflict.js';
import { crdCelRule } from './crd-cel-rule.js';
import { crdCelUnchecked } from './crd-cel-unchecked.js';
import { credentialOverPlaintext } from './credential-over-plaintext.js';
import { authIgnoredForStdio } from './auth-ignored-for-stdio.js';
import { envDummyCredential } from './env-dummy-credential.js';
import { envIgnoredForRemote } from './env-ignored-for-remote.js';
import { envLiteralCredential } from './env-literal-credential.js';
import { envUnresolvedPlaceholder } from './env-unresolved-placeholder.js';
import { expectedIssuerRequired } from './expected-issuer-required.js';
import { familyConsistency } from './family-consistency.js';
import { forwardTokenWithTokenExchange } from './forward-token-with-token-exchange.js';
import { headerDummyCredential } from './header-dummy-credential.js';
import { headerDuplicateName } from './header-duplicate-name.js';
import { headerLiteralCredential } from './header-literal-credential.js';
import { headerSyntax } from './header-syntax.js';
import { headerUnresolvedPlaceholder } from './header-unresolved-placeholder.js';
import { headersIgnoredPerUser } from './headers-ignored-per-user.js';
import { headersRemoteOnly } from './headers-remote-only.js';
import { plaintextUrl } from './plaintext-url.js';
import { remoteUrlRequired } from './remote-url-required.js';
import { requiredAudiencesFormat } from './required-audiences-format.js';
import { requiredAudiencesUnused } from './required-audiences-unused.js';
import { schemaViolation } from './schema-violation.js';
import { sseWithPerUserAuth } from './sse-with-per-user-auth.js';
import { stdioCommandRequired } from './stdio-command-required.js';
import { tokenExchangeDisabledFields } from './token-exchange-disabled-fields.js';
import { tokenExchangeRequiredFields } from './token-exchange-required-fields.js';
import { referencedSecret } from './referenced-secret.js';
import { toolPrefixCollision } from './tool-prefix-collision.js';
import { unknownField } from './unknown-field.js';

/**
 * The rule catalogue, in the order the rule reference documents it: shape, then security, then
 * advice, then the rules that look across the fleet.
 */
export const RULES: readonly Rule[] = [
  schemaViolation,
  unknownField,
  crdCelRule,
  crdCelUnchecked,
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
  expectedIssuerRequired,
  requiredAudiencesFormat,
  headerUnresolvedPlaceholder,
  headerLiteralCredential,
  headerDummyCredential,
  envUnresolvedPlaceholder,
  envLiteralCredential,
  envDummyCredential,
  credentialOverPlaintext,
  headerSyntax,
  headerDuplicateName,
  requiredAudiencesUnused,
  tokenExchangeDisabledFields,
  forwardTokenWithTokenExchange,
  envIgnoredForRemote,
  authIgnoredForStdio,
  headersIgnoredPerUser,
  sseWithPerUserAuth,
  authorizationServerOverride,
  plaintextUrl,
  familyConsistency,
  toolPrefixCollision,
  referencedSecret,
];

export const RULE_IDS: readonly string[] = RULES.map((rule) => rule.id);

/**
 * Older rule IDs that policies may still name (the project is at 0.x, where an ID may change):
 * a policy setting for an alias applies to the rule it names now.
 */
export const RULE_ALIASES: Readonly<Record<string, string>> = {
  // It warned without forwardToken even for token exchange, which uses the audiences too.
  'required-audiences-without-forward-token': 'required-audiences-unused',
};
