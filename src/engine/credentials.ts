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

/**
 * Whether a value holds a pattern, in time proportional to its length whatever it holds: values
 * come from the object, up to megabytes long, and a test that takes quadratic time on some
 * value holds up every review behind it.
 */
type Matcher = (value: string) => boolean;

/** For patterns that fail fast wherever a search starts, as these do. */
const matching =
  (pattern: RegExp): Matcher =>
  (value) =>
    pattern.test(value);

/** Formats that are a credential wherever they appear, whatever the header is called. */
const TOKEN_FORMATS: readonly { readonly name: string; readonly matches: Matcher }[] = [
  { name: 'a JSON Web Token', matches: holdsJsonWebToken },
  { name: 'a GitHub token', matches: matching(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/) },
  { name: 'a GitLab token', matches: matching(/\bgl(?:pat|dt|ptt|rt|cbt)-[A-Za-z0-9_-]{20,}/) },
  { name: 'a Slack token', matches: matching(/\bxox[abposre]-[A-Za-z0-9-]{10,}/) },
  { name: 'an AWS access key ID', matches: matching(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/) },
  { name: 'a Google API key', matches: matching(/\bAIza[0-9A-Za-z_-]{35}/) },
  { name: 'a Stripe key', matches: matching(/\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/) },
  { name: 'an Atlassian API token', matches: matching(/\bATATT[A-Za-z0-9_=-]{20,}/) },
  { name: 'an npm token', matches: matching(/\bnpm_[A-Za-z0-9]{36}\b/) },
  { name: 'an sk- style API key', matches: matching(/\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}/) },
  { name: 'a private key', matches: matching(/-----BEGIN [A-Z ]*PRIVATE KEY-----/) },
];

/**
 * What `\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.` finds (a header and a payload, base64url
 * JSON objects, then the signature), in linear time: that expression alone starts
 * again at every `eyJ` of a run such as `eyJ-eyJ-eyJ-...` and scans to the run's end each time.
 * Every start within one run of base64url characters reaches the same end with less before it,
 * so when one fails, the rest of its run is skipped.
 */
function holdsJsonWebToken(value: string): boolean {
  const starts = /\beyJ/g;
  const token = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\./y;
  const run = /[A-Za-z0-9_-]*/y;
  for (let start = starts.exec(value); start; start = starts.exec(value)) {
    token.lastIndex = start.index;
    if (token.test(value)) return true;
    run.lastIndex = start.index;
    run.test(value);
    starts.lastIndex = run.lastIndex;
  }
  return false;
}

/** The kind of well-known token the value holds, if any: "a GitHub token". */
export function knownTokenFormat(value: string): string | undefined {
  return TOKEN_FORMATS.find((format) => format.matches(value))?.name;
}

/**
 * `open`, then `close` somewhere after it: what /\$\{[^}]*\}/ and the like find, in linear time.
 * The expression tries again from every `open` and scans to the end each time (minutes on a long
 * value full of `${`); the first `open` is enough, as a `close` after a later one is after it too.
 */
function opensThenCloses(text: string, open: string, close: string): boolean {
  const start = text.indexOf(open);
  return start >= 0 && text.includes(close, start + open.length);
}

const PLACEHOLDER_SYNTAXES: readonly { readonly name: string; readonly matches: Matcher }[] = [
  // As /\{\{.*?\}\}/: `.` stops at line terminators.
  { name: 'a template expression {{ ... }}', matches: (value) => value.split(/[\n\r\u2028\u2029]/).some((line) => opensThenCloses(line, '{{', '}}')) },
  { name: 'a variable reference ${...}', matches: (value) => opensThenCloses(value, '${', '}') },
  { name: 'a Kubernetes-style variable reference $(...)', matches: (value) => opensThenCloses(value, '$(', ')') },
  { name: 'a shell variable reference $NAME', matches: matching(/\$[A-Z_][A-Z0-9_]*\b/) },
  // Three characters at least, so that URL encoding (`%E2%80%99`) is not taken for one.
  { name: 'a Windows-style variable reference %NAME%', matches: matching(/%[A-Za-z_][A-Za-z0-9_]{2,}%/) },
  { name: 'an angle-bracket placeholder such as <token>', matches: matching(/<[^<>\s][^<>]{0,63}>/) },
];

/**
 * Words people leave where a secret should go. Matched against the credential, scheme removed.
 * The phrases between `your` or `insert` and `here` are bounded, as the angle-bracket placeholder
 * is: unbounded, a long run of `your` takes quadratic time.
 */
const PLACEHOLDER_WORDS =
  /^(?:x{3,}|\*{3,}|\.{3,}|-+|todo|tbd|fixme|placeholder|redacted|dummy|secret|token|password|none|null|undefined|changeit)$|replace[-_ ]?me|change[-_ ]?me|your[-_ ]?[a-z_-]{0,64}here|insert[-_ ]?[a-z_-]{0,64}here|^your[-_ ]?(?:api[-_ ]?)?(?:token|key|secret|password)$|x{4,}/i;

/** An HTTP authentication scheme in front of the credential: `Bearer abc` holds `abc`. */
const AUTH_SCHEME = /^(?:bearer|basic|token|digest|apikey|api-key)(?:\s+|$)/i;

export function credentialPart(value: string): string {
  return value.trim().replace(AUTH_SCHEME, '').trim();
}

/**
 * The kind of unresolved placeholder in the value, if any. Template syntaxes count in every
 * header; placeholder words and emptiness only in credential headers, where no real value looks
 * like them: `Bearer ` or an empty `X-API-Key` is what `envsubst` makes of an unset variable.
 */
export function findPlaceholder(value: string, credentialHeader: boolean): string | undefined {
  const syntax = PLACEHOLDER_SYNTAXES.find((candidate) => candidate.matches(value));
  if (syntax) return syntax.name;
  if (!credentialHeader) return undefined;
  const credential = credentialPart(value);
  if (credential === '') return 'no credential at all (an empty value, as an unset variable leaves it)';
  if (PLACEHOLDER_WORDS.test(credential)) return 'a placeholder word such as REPLACE_ME or changeme';
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
