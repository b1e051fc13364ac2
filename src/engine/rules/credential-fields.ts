import { classifyCredential, isCredentialEnvName, isCredentialHeader, type CredentialClass, type CredentialReading } from '../credentials.js';
import { mapKey } from '../field-path.js';
import type { RuleFinding } from '../rule.js';
import type { SpecView } from '../spec-view.js';
import { envEntries, headerEntries } from './facts.js';

/**
 * The two places an MCPServer holds credentials as text: spec.headers, sent verbatim with every
 * request of a remote server, and spec.env, passed verbatim to a stdio server's process
 * (NewStdioClientWithEnv, internal/mcpserver/client_stdio.go, giantswarm/muster: `KEY=value`,
 * nothing expanded).
 */
export type CredentialPlace = 'headers' | 'env';

const CARRIES_BY_NAME: Readonly<Record<CredentialPlace, (name: string) => boolean>> = {
  headers: isCredentialHeader,
  env: isCredentialEnvName,
};

function entries(spec: SpecView, place: CredentialPlace): [string, string][] {
  return place === 'headers' ? headerEntries(spec) : envEntries(spec);
}

/**
 * One finding per value of `place` in `credentialClass`, at the field of its key: the message is
 * written from what kind of value it is, never from the value.
 */
export function credentialFindings(
  spec: SpecView,
  place: CredentialPlace,
  credentialClass: CredentialClass,
  describe: (reading: CredentialReading) => Omit<RuleFinding, 'field'>,
): RuleFinding[] {
  return entries(spec, place).flatMap(([name, value]) => {
    const reading = classifyCredential(value, CARRIES_BY_NAME[place](name));
    return reading?.class === credentialClass ? [{ field: ['spec', place, mapKey(name)], ...describe(reading) }] : [];
  });
}

/** What a leaked secret is, in headers and env alike. */
export function literalCredentialMessage({ kind }: CredentialReading): Omit<RuleFinding, 'field'> {
  return {
    message: `holds ${kind} in plain text, readable by anyone who can read this MCPServer: commit a placeholder and inject the secret at deploy time`,
    summary: 'holds a secret in plain text: inject it',
  };
}

/** What a dummy value is, for the `server` (a header) or the `service` (an env token) that will refuse it. */
export function dummyCredentialMessage(refuser: 'server' | 'service'): (reading: CredentialReading) => Omit<RuleFinding, 'field'> {
  return ({ kind }) => ({
    message: `holds ${kind}, not a real credential, so the ${refuser} will likely refuse it: commit a placeholder such as \${TOKEN} for the pipeline to substitute`,
    summary: `holds a dummy value the ${refuser} will likely refuse`,
  });
}
