import { INTERNAL_ERROR_RULE } from '../engine/index.js';

/** The Kubernetes `metav1.CauseType` values a denial of ours can carry. */
export type CauseReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueForbidden'
  | 'FieldValueDuplicate'
  | 'FieldValueNotFound'
  | 'InternalError';

/**
 * What kind of problem each rule reports, in the words Kubernetes clients understand. Every
 * rule is listed (a test holds the table to the catalogue), so a new rule gets a deliberate
 * reason rather than a silent default.
 */
export const CAUSE_REASONS: Readonly<Record<string, CauseReason>> = {
  'schema-violation': 'FieldValueInvalid',
  'unknown-field': 'FieldValueForbidden',
  // The CRD's CEL rules: Invalid as the API server reports them without a reason of their own.
  'crd-cel-rule': 'FieldValueInvalid',
  'crd-cel-unchecked': 'FieldValueInvalid',
  'stdio-command-required': 'FieldValueRequired',
  'remote-url-required': 'FieldValueRequired',
  'args-stdio-only': 'FieldValueForbidden',
  'headers-remote-only': 'FieldValueForbidden',
  'auth-remote-only': 'FieldValueForbidden',
  'authorization-server-oauth-only': 'FieldValueForbidden',
  'authorization-server-forward-token-conflict': 'FieldValueForbidden',
  'authorization-server-token-exchange-conflict': 'FieldValueForbidden',
  'authorization-server-issuer': 'FieldValueInvalid',
  'token-exchange-required-fields': 'FieldValueRequired',
  'expected-issuer-required': 'FieldValueRequired',
  'required-audiences-format': 'FieldValueInvalid',
  'header-unresolved-placeholder': 'FieldValueInvalid',
  'header-literal-credential': 'FieldValueForbidden',
  'header-dummy-credential': 'FieldValueInvalid',
  'env-unresolved-placeholder': 'FieldValueInvalid',
  'env-literal-credential': 'FieldValueForbidden',
  'env-dummy-credential': 'FieldValueInvalid',
  'credential-over-plaintext': 'FieldValueForbidden',
  'header-syntax': 'FieldValueInvalid',
  'header-duplicate-name': 'FieldValueDuplicate',
  'required-audiences-unused': 'FieldValueInvalid',
  'token-exchange-disabled-fields': 'FieldValueInvalid',
  'forward-token-with-token-exchange': 'FieldValueForbidden',
  'env-ignored-for-remote': 'FieldValueForbidden',
  'auth-ignored-for-stdio': 'FieldValueForbidden',
  'headers-ignored-per-user': 'FieldValueForbidden',
  'sse-with-per-user-auth': 'FieldValueInvalid',
  'authorization-server-override': 'FieldValueInvalid',
  'plaintext-url': 'FieldValueInvalid',
  'family-consistency': 'FieldValueInvalid',
  'tool-prefix-collision': 'FieldValueDuplicate',
  'referenced-secret': 'FieldValueNotFound',
  [INTERNAL_ERROR_RULE]: 'InternalError',
};

export function causeReason(rule: string): CauseReason {
  return Object.hasOwn(CAUSE_REASONS, rule) ? (CAUSE_REASONS[rule] ?? 'FieldValueInvalid') : 'FieldValueInvalid';
}
