/**
 * X.509 certificates for local development, made with @peculiar/x509 over Node's WebCrypto.
 * The library is loaded only when development certificates are made: it needs the
 * reflect-metadata polyfill on the global Reflect, which a production server has no reason to
 * carry. Node's own X509Certificate then parses the result for the rest of the server.
 */
import { X509Certificate, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import type { Extension } from '@peculiar/x509';

/** The time a certificate is valid: no earlier than notBefore, no later than notAfter. */
export interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** A certificate authority that can sign: its certificate and private key. */
export interface Authority {
  readonly certificate: X509Certificate;
  readonly key: KeyObject;
}

const ORGANIZATION = 'mcpserver-webhook development';
const SERVER_COMMON_NAME = 'mcpserver-webhook development server';

type X509Library = typeof import('@peculiar/x509');
let library: Promise<X509Library> | undefined;

function x509(): Promise<X509Library> {
  library ??= (async () => {
    await import('reflect-metadata');
    const loaded = await import('@peculiar/x509');
    loaded.cryptoProvider.set(webcrypto);
    return loaded;
  })();
  return library;
}

type SignatureAlgorithm = (webcrypto.EcKeyImportParams & webcrypto.EcdsaParams) | webcrypto.RsaHashedImportParams;

/** WebCrypto's names for the curves Node reports by their OpenSSL names. */
const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** Signatures with SHA-256: ECDSA for the keys made here, RSA for CAs people bring, such as mkcert's. */
function signatureAlgorithm(key: KeyObject): SignatureAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const namedCurve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType === 'ec' && namedCurve) return { name: 'ECDSA', namedCurve, hash: 'SHA-256' };
  throw new TypeError(`Cannot sign certificates with a ${key.asymmetricKeyType} key.`);
}

/** True when certificates can be signed with this private key here. */
export function canSignWith(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa' || (key.asymmetricKeyType === 'ec' && Object.hasOwn(CURVES, key.asymmetricKeyDetails?.namedCurve ?? ''));
}

/** True for what a certificate can name: an IP address, or a DNS name (wildcards allowed). */
export function isCertificateHost(host: string): boolean {
  if (isIP(host) !== 0) return !host.includes('%'); // a zone such as %eth0 means nothing to other machines
  return /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i.test(host);
}

function alternativeName(host: string): { type: 'ip' | 'dns'; value: string } {
  switch (isIP(host)) {
    case 4:
      return { type: 'ip', value: host };
    case 6:
      // The library reads only hexadecimal groups: write an embedded IPv4 (::ffff:192.0.2.1) as two of them.
      return {
        type: 'ip',
        value: host.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a, b, c, d) => `${(+a * 256 + +b).toString(16)}:${(+c * 256 + +d).toString(16)}`),
      };
    default:
      return { type: 'dns', value: host };
  }
}

function name(commonName: string): { [attribute: string]: string[] }[] {
  return [{ O: [ORGANIZATION] }, { CN: [commonName] }];
}

/** A positive serial of 16 random bytes (RFC 5280 allows up to 20), as hexadecimal. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** The public half of a key pair (from either half), as X.509 embeds it. */
function spki(key: KeyObject): Buffer {
  return (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });
}

async function signingKey(key: KeyObject): Promise<{ key: webcrypto.CryptoKey; algorithm: SignatureAlgorithm }> {
  const algorithm = signatureAlgorithm(key);
  const imported = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), algorithm, false, ['sign']);
  return { key: imported, algorithm };
}

/** A self-signed CA certificate for `key` that may sign server certificates (and no further CAs). */
export async function createAuthorityCertificate(commonName: string, key: KeyObject, validity: Validity): Promise<X509Certificate> {
  const lib = await x509();
  const signer = await signingKey(key);
  const publicKey = spki(key);
  const certificate = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: name(commonName),
    issuer: name(commonName),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions: [
      new lib.BasicConstraintsExtension(true, 0, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return new X509Certificate(certificate.toString('pem'));
}

/** A TLS server certificate for `hosts` (DNS names and IP addresses), signed by `authority`. */
export async function createServerCertificate(
  hosts: readonly string[],
  publicKey: KeyObject,
  authority: Authority,
  validity: Validity,
): Promise<X509Certificate> {
  const lib = await x509();
  return createLeafCertificate(name(SERVER_COMMON_NAME), publicKey, authority, validity, [
    new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
    new lib.SubjectAlternativeNameExtension(hosts.map(alternativeName)),
  ]);
}

/**
 * A TLS client certificate signed by `authority`, for a user whom Kubernetes names by the common
 * name and puts in the groups named by the organizations (kube-apiserver's x509 authenticator),
 * as a test cluster's administrator or a caller of `--client-ca` is.
 */
export async function createClientCertificate(
  user: { readonly commonName: string; readonly organizations: readonly string[] },
  publicKey: KeyObject,
  authority: Authority,
  validity: Validity,
): Promise<X509Certificate> {
  const lib = await x509();
  const subject = [...user.organizations.map((organization) => ({ O: [organization] })), { CN: [user.commonName] }];
  return createLeafCertificate(subject, publicKey, authority, validity, [new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.clientAuth])]);
}

/** A certificate that signs nothing, for `publicKey`, with the extensions of its use. */
async function createLeafCertificate(
  subject: { [attribute: string]: string[] }[],
  publicKey: KeyObject,
  authority: Authority,
  validity: Validity,
  usage: readonly Extension[],
): Promise<X509Certificate> {
  const lib = await x509();
  const signer = await signingKey(authority.key);
  const issuer = new lib.X509Certificate(authority.certificate.raw);
  // The issuer's own key identifier, whatever method its maker used to compute it.
  const issuerKeyId = issuer.getExtension(lib.SubjectKeyIdentifierExtension)?.keyId;
  const subjectPublicKey = spki(publicKey);
  const certificate = await lib.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: issuer.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: subjectPublicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      ...usage,
      await lib.SubjectKeyIdentifierExtension.create(subjectPublicKey),
      issuerKeyId
        ? new lib.AuthorityKeyIdentifierExtension(issuerKeyId)
        : await lib.AuthorityKeyIdentifierExtension.create(spki(authority.key)),
    ],
  });
  return new X509Certificate(certificate.toString('pem'));
}
