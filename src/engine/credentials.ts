/**
 * The one credential classifier of the rules, for spec.headers and spec.env alike: it tells a
 * real secret from a dummy word and from a placeholder the pipeline has yet to fill in. Every
 * function here answers with a description of *what kind* of value it saw, never with the value
 * itself, so that no caller can put a secret into a message by accident.
 */

const CREDENTIAL_HEADER_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key']);
const CREDENTIAL_NAME_PARTS = /token|secret|api-?key|api_key|password|passwd|session|auth/i;

/** True for a header that carries a credential by its name: `Authorization`, `X-Auth-Token`, ... */
export function isCredentialHeader(name: string): boolean {
  return CREDENTIAL_HEADER_NAMES.has(name.toLowerCase()) || CREDENTIAL_NAME_PARTS.test(name);
}

/**
 * True for an environment variable that carries a credential by its name, as MCP servers name
 * them: `GITHUB_PERSONAL_ACCESS_TOKEN`, `OPENAI_API_KEY`, `CLIENT_SECRET`, `AWS_SECRET_ACCESS_KEY`,
 * `DB_PASSWORD`. The name must end in the word (or hold PASSWORD anywhere): `TOKEN_URL` names a URL.
 */
export function isCredentialEnvName(name: string): boolean {
  return /(?:^|_)(?:TOKEN|SECRET|API_?KEY|ACCESS_KEY|PRIVATE_KEY|AUTH_KEY|CREDENTIALS?|PAT)$/i.test(name) || /PASS(?:WORD|WD)/i.test(name);
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
  // GitHub classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained (github_pat_) tokens.
  { name: 'a GitHub token', matches: matching(/\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/) },
  { name: 'a GitLab token', matches: matching(/\bgl(?:pat|dt|ptt|rt|cbt|oas)-[A-Za-z0-9_-]{20,}/) },
  { name: 'a Slack token', matches: matching(/\bxox[abposre]-[A-Za-z0-9-]{10,}/) },
  { name: 'an AWS access key ID', matches: matching(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/) },
  { name: 'a Google API key', matches: matching(/\bAIza[0-9A-Za-z_-]{35}/) },
  { name: 'a Stripe key', matches: matching(/\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}/) },
  { name: 'an Atlassian API token', matches: matching(/\bATATT[A-Za-z0-9_=-]{20,}/) },
  { name: 'an npm token', matches: matching(/\bnpm_[A-Za-z0-9]{36}\b/) },
  { name: 'a Hugging Face token', matches: matching(/\bhf_[A-Za-z0-9]{30,}/) },
  { name: 'an Anthropic API key', matches: matching(/\bsk-ant-[a-z]+\d*-[A-Za-z0-9_-]{20,}/) },
  { name: 'an OpenAI API key', matches: matching(/\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ/) },
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

/** The kind of template syntax in the value (`${TOKEN}`, `<token>`, ...), if any: a placeholder in any field. */
export function placeholderSyntax(value: string): string | undefined {
  return PLACEHOLDER_SYNTAXES.find((candidate) => candidate.matches(value))?.name;
}

/**
 * Words people leave where a secret should go. Matched against the credential, scheme removed.
 * The phrases between `your` or `insert` and `here` are bounded, as the angle-bracket placeholder
 * is: unbounded, a long run of `your` takes quadratic time.
 */
const PLACEHOLDER_WORDS =
  /^(?:x{3,}|\*{3,}|\.{3,}|-+|todo|tbd|fixme|placeholder|redacted|dummy|secret|token|password|none|null|undefined|changeit)$|replace[-_ ]?me|change[-_ ]?me|your[-_ ]?[a-z_-]{0,64}here|insert[-_ ]?[a-z_-]{0,64}here|^your[-_ ]?(?:api[-_ ]?)?(?:token|key|secret|password)$|x{4,}/i;

/**
 * Words of documentation, tests and mock servers: a value that holds one is a stand-in
 * (`Bearer test-token`, `jwt-token-here`), as secret scanners (gitleaks, detect-secrets) allow
 * them. Four letters at least: in a random 40-character token a shorter word turns up by chance.
 * Not `secret` or `token`: real values are named so (`prod-secret-8f7a6b5c4d3e`), and the shape
 * test tells those from words.
 */
const DUMMY_WORDS = /example|sample|dummy|fake|test|mock|demo|here|passw(?:or)?d|lorem/i;

/** An HTTP authentication scheme in front of the credential: `Bearer abc` holds `abc`. */
const AUTH_SCHEME = /^(?:bearer|basic|token|digest|apikey|api-key)(?:\s+|$)/i;

export function credentialPart(value: string): string {
  return value.trim().replace(AUTH_SCHEME, '').trim();
}

/** Bits per character of the text's own distribution of characters (Shannon), as detect-secrets measures it. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const share = count / text.length;
    bits -= share * Math.log2(share);
  }
  return bits;
}

/**
 * Whether a credential has the shape of a real secret rather than a word someone typed: real
 * tokens are machine-made, long enough, mix letters and digits (or both letter cases, when long),
 * and spread over many characters. `Bearer jwt-token-here`, `test-token`, `hunter2` do not.
 * Values longer than any token are cut first: the measure stays linear and bounded.
 */
function looksMachineMade(credential: string): boolean {
  const text = credential.slice(0, 4096);
  if (/\s/.test(text) || DUMMY_WORDS.test(text)) return false;
  const letters = /[A-Za-z]/.test(text);
  const digits = /\d/.test(text);
  if (letters && digits) return text.length >= 8 && entropy(text) >= 2.5;
  const bothCases = /[a-z]/.test(text) && /[A-Z]/.test(text);
  return bothCases && text.length >= 20 && entropy(text) >= 3.5;
}

/** `Basic dXNlcjpwYXNz`: a user name and a password, base64-encoded, whatever their shape. */
function isBasicCredential(value: string): boolean {
  const match = /^basic\s+([A-Za-z0-9+/]+={0,2})$/i.exec(value.trim());
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 && colon < decoded.length - 1;
}

/**
 * The classes of value a credential field may hold; each rule that reads one acts on one class,
 * so that the policy sets each class's action per context (docs/policy.md, "Credentials"):
 * - `secret`: a real credential, a well-known token format anywhere or a machine-made value
 *   where a credential goes;
 * - `dummy`: a word where a credential goes (`test-token`): no secret, but no server takes it;
 * - `placeholder`: a template the pipeline has yet to fill in (`${TOKEN}`, `<token>`,
 *   `REPLACE_ME`), or nothing at all where a credential goes (what `envsubst` leaves of an unset
 *   variable).
 */
export type CredentialClass = 'secret' | 'dummy' | 'placeholder';

export interface CredentialReading {
  readonly class: CredentialClass;
  /** What kind of value it is, for a message: "a GitHub token". Never the value. */
  readonly kind: string;
}

/**
 * Reads one value of spec.headers or spec.env. Template syntax counts in any field, and so does a
 * well-known token format; the other classes only where the field carries a credential by its
 * name (`byName`): `X-Tenant: acme` and `LOG_LEVEL: debug` are no credentials. Undefined: nothing
 * to say about the value.
 */
export function classifyCredential(value: string, byName: boolean): CredentialReading | undefined {
  const syntax = placeholderSyntax(value);
  if (syntax) return { class: 'placeholder', kind: syntax };
  const format = knownTokenFormat(value);
  if (format) return { class: 'secret', kind: format };
  if (!byName) return undefined;
  const credential = credentialPart(value);
  if (credential === '') return { class: 'placeholder', kind: 'no credential at all (an empty value, as an unset variable leaves it)' };
  if (PLACEHOLDER_WORDS.test(credential)) return { class: 'placeholder', kind: 'a placeholder word such as REPLACE_ME or changeme' };
  if (isBasicCredential(value)) return { class: 'secret', kind: 'a user name and password (HTTP Basic)' };
  if (looksMachineMade(credential)) return { class: 'secret', kind: 'a credential' };
  return { class: 'dummy', kind: 'a dummy value (a word or a short stand-in, as in documentation and tests)' };
}

/** True when the header would send a credential, literal or still a placeholder. */
export function carriesCredential(name: string, value: string): boolean {
  return (isCredentialHeader(name) && credentialPart(value) !== '') || knownTokenFormat(value) !== undefined;
}
