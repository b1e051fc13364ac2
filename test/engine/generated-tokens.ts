import { randomBytes, randomInt } from 'node:crypto';

/**
 * Tokens of every format the credential classifier knows, made up at run time from random
 * characters with the right prefix and shape: never real ones, and nothing in the repository
 * that a secret scanner would flag.
 */
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_AND_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const DIGITS = '0123456789';

function random(length: number, alphabet = ALPHANUMERIC): string {
  let text = '';
  for (let index = 0; index < length; index++) text += alphabet[randomInt(alphabet.length)];
  return text;
}

const base64url = (text: string): string => Buffer.from(text).toString('base64url');

export interface GeneratedToken {
  /** The class of token, as the classifier names it in messages. */
  readonly kind: string;
  readonly value: string;
}

export function generatedTokens(): GeneratedToken[] {
  return [
    { kind: 'a GitHub token', value: `ghp_${random(36)}` },
    { kind: 'a GitHub token', value: `gho_${random(36)}` },
    { kind: 'a GitHub token', value: `github_pat_${random(22)}_${random(59)}` },
    { kind: 'a GitLab token', value: `glpat-${random(20)}` },
    { kind: 'a Slack token', value: `xoxb-${random(12, DIGITS)}-${random(12, DIGITS)}-${random(24)}` },
    { kind: 'a Slack token', value: `xoxp-${random(12, DIGITS)}-${random(12, DIGITS)}-${random(32)}` },
    { kind: 'an AWS access key ID', value: `AKIA${random(16, UPPER_AND_DIGITS)}` },
    { kind: 'a Google API key', value: `AIza${random(35)}` },
    { kind: 'a Stripe key', value: `sk_live_${random(24)}` },
    { kind: 'an Atlassian API token', value: `ATATT${random(40)}` },
    { kind: 'an npm token', value: `npm_${random(36)}` },
    { kind: 'a Hugging Face token', value: `hf_${random(34)}` },
    { kind: 'an Anthropic API key', value: `sk-ant-api03-${random(93)}` },
    { kind: 'an OpenAI API key', value: `sk-proj-${random(48)}` },
    { kind: 'an sk- style API key', value: `sk-${random(48)}` },
    {
      kind: 'a JSON Web Token',
      value: `${base64url(JSON.stringify({ alg: 'RS256', kid: random(8) }))}.${base64url(JSON.stringify({ sub: random(12), aud: 'muster' }))}.${random(43)}`,
    },
    { kind: 'a private key', value: `-----BEGIN ${'PRIVATE'} KEY-----\n${randomBytes(48).toString('base64')}\n-----END ${'PRIVATE'} KEY-----` },
  ];
}

/** A machine-made credential of no known format, as an API key of a lesser-known service looks. */
export function generatedOpaqueSecret(): string {
  return randomBytes(20).toString('hex');
}

/** A user name and a made-up password for HTTP Basic, base64-encoded as the header carries them. */
export function generatedBasicCredential(): string {
  return `Basic ${Buffer.from(`muster:${random(16)}`).toString('base64')}`;
}

/** Values from documentation and mock servers (upstream Muster's docs and e2e scenarios among them). */
export const DUMMY_VALUES: readonly string[] = ['Bearer jwt-token-here', 'Bearer test-token', 'Bearer sse-token', 'demo-key', 'hunter2', 'my-api-key', 'Bearer mock-secret-123', 'example-password'];

/** Placeholders a pipeline fills in, and what it leaves of an unset variable. */
export const PLACEHOLDER_VALUES: readonly string[] = ['Bearer ${GITHUB_TOKEN}', '<token>', '{{ .Values.token }}', 'REPLACE_ME', 'your-api-key', 'Bearer ', ''];
