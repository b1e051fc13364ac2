#!/usr/bin/env node
// Creates a development CA and serving certificate before the webhook first starts, with the
// same code as `serve --dev-certs`. Run `npm run build` first.
//
//   node certs/generate-dev-certs.mjs [DIR [HOST...]]
//
// DIR defaults to this folder; each HOST (a DNS name or IP address, e.g. host.minikube.internal)
// goes into the certificate besides localhost, 127.0.0.1 and ::1.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let certificates;
try {
  certificates = await import('../dist/server/certificates.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  console.error('generate-dev-certs: dist/ is missing; run `npm run build` first.');
  process.exit(1);
}

const [dirArgument, ...hosts] = process.argv.slice(2);
const dir = resolve(dirArgument ?? dirname(fileURLToPath(import.meta.url)));

try {
  const { created, caFile } = await certificates.ensureDevCertificates(dir, { hosts });
  console.log(
    created
      ? `Created tls.crt and tls.key in ${dir}.`
      : `${dir} already holds tls.crt and tls.key; nothing changed (delete them to make new ones).`,
  );
  console.log(`Clients trust the webhook through ${caFile}, e.g. curl --cacert ${caFile} https://localhost:8443/healthz`);
} catch (error) {
  if (!(error instanceof certificates.CertificateError)) throw error;
  console.error(`generate-dev-certs: ${error.message}`);
  process.exit(1);
}
