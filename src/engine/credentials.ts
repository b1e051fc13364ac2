/**
 * How the header rules tell credentials and placeholders apart. Every function here answers
 * with a description of *what kind* of value it saw, never with the value itself, so that no
 * caller can put a secret into a message by accident.
 */

const CREDENTIAL_HEADER_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
const CREDENTIAL_NAME_PARTS = /token|secret|api-?key|api_key|password|passwd|session|auth/i;

/** True for a header that carries a credential by its name: `Authorization`, `X-Auth-Token`, ... */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER_NAMES.has(name.toLowerCase()) || CREDENTIAL_NAME_PARTS.test(name);
}

/** Formats that are a credential wherever they appear, whatever the header is called. */
const TOKEN_FORMATS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'a JSON Web Token', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/ },
  { name: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { name: 'a GitLab token', pattern: /\bgl(?:pat|dt|ptt|rt|cbt)-[A-Za-z0-9_-]{20,}/ },
  { name: 'a Slack token', pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/ },
  { name: 'an AWS access key ID', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { name: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}/ },
  { name: 'a Stripe key', pattern: /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/ },
  { name: 'an Atlassian API token', pattern: /\bATATT[A-Za-z0-9_=-]{20,}/ },
  { name: 'an npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: 'an sk- style API key', pattern: /\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}/ },
  { name: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
];

/** The kind of well-known token the value holds, if any: "a GitHub token". */
export function knownTokenFormat(value: string): string | undefined {
  return TOKEN_FORMATS.find((format) => format.pattern.test(value))?.name;
}

const PLACEHOLDER_SYNTAXES: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'a template expression {{ ... }}', pattern: /\{\{.*?\}\}/ },
  { name: 'a variable reference ${...}', pattern: /\$\{[^}]*\}/ },
  { name: 'a Kubernetes-style variable reference $(...)', pattern: /\$\([^)]*\)/ },
  { name: 'a shell variable reference $NAME', pattern: /\$[A-Z_][A-Z0-9_]*\b/ },
  { name: 'an angle-bracket placeholder such as <token>', pattern: /<[^<>\s][^<>]{0,63}>/ },
];

/** Words people leave where a secret should go. Matched against the credential, scheme removed. */
const PLACEHOLDER_WORDS =
  /^(?:x{3,}|\*{3,}|\.{3,}|-+|todo|tbd|fixme|placeholder|redacted|dummy|secret|token|password|none|null|undefined|changeit)$|replace[-_ ]?me|change[-_ ]?me|your[-_ ]?[a-z_-]*here|insert[-_ ]?[a-z_-]*here|^your[-_ ]?(?:api[-_ ]?)?(?:token|key|secret|password)$|x{4,}/i;

/** An HTTP authentication scheme in front of the credential: `Bearer abc` holds `abc`. */
const AUTH_SCHEME = /^(?:bearer|basic|token|digest|apikey|api-key)(?:\s+|$)/i;

export function credentialPart(value: string): string {
  return value.trim().replace(AUTH_SCHEME, '').trim();
}

/**
 * The kind of unresolved placeholder in the value, if any. Template syntaxes count in every
 * header; placeholder words only in credential headers, where no real value looks like them.
 */
export function findPlaceholder(value: string, credentialHeader: boolean): string | undefined {
  const syntax = PLACEHOLDER_SYNTAXES.find((candidate) => candidate.pattern.test(value));
  if (syntax) return syntax.name;
  if (credentialHeader && PLACEHOLDER_WORDS.test(credentialPart(value))) {
    return 'a placeholder word such as REPLACE_ME or changeme';
  }
  return undefined;
}

/**
 * The kind of literal credential a header holds: a well-known token anywhere, or any real
 * value in a header that carries credentials by name. Undefined for placeholders and blanks.
 */
export function literalCredential(name: string, value: string): string | undefined {
  const format = knownTokenFormat(value);
  if (format) return format;
  const credentialHeader = isCredentialHeader(name);
  if (!credentialHeader || credentialPart(value) === '' || findPlaceholder(value, credentialHeader)) return undefined;
  return 'a credential';
}

/** True when the header would send a credential, literal or still a placeholder. */
export function carriesCredential(name: string, value: string): boolean {
  return (isCredentialHeader(name) && credentialPart(value) !== '') || knownTokenFormat(value) !== undefined;
}
