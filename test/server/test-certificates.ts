import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createAuthorityCertificate, createServerCertificate, type Authority, type Validity } from '../../src/server/dev-certificates.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

export interface Pair {
  readonly cert: string;
  readonly key: string;
}

export function pemOf(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

export function validFor(days: number, startDaysFromNow = -1): Validity {
  const start = Date.now() + startDaysFromNow * DAY_MS;
  return { notBefore: new Date(start), notAfter: new Date(start + days * DAY_MS) };
}

export const CURRENT = validFor(30);

export async function newAuthority(type: 'ec' | 'rsa' = 'ec'): Promise<Authority> {
  const { privateKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { certificate: await createAuthorityCertificate(`test CA ${type}`, privateKey, CURRENT), key: privateKey };
}

/** A serving pair for localhost and 127.0.0.1 signed by `authority`. */
export async function serverPair(authority: Authority, validity: Validity = CURRENT, privateKey?: KeyObject): Promise<Pair> {
  const key = privateKey ?? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const certificate = await createServerCertificate(['localhost', '127.0.0.1'], createPublicKey(key), authority, validity);
  return { cert: certificate.toString(), key: pemOf(key) };
}
