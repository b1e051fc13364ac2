// The ceiling: the least an HTTPS admission webhook on Node.js can do. It reads the request body
// and answers one fixed, valid AdmissionReview, with the webhook's own certificate, TLS settings
// and connection timeouts. Whatever the webhook costs beyond this is its own.
//
// With --parse it is the floor of any webhook written in JavaScript instead: it also parses the
// body with JSON.parse, which no webhook that reads the review can skip.
//
//   node bench/ceiling-server.mjs --cert-dir DIR --port PORT [--parse]
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';
import { loadServingCertificate } from '../dist/server/certificates.js';
import { CONNECTION_TIMEOUTS, secureContextOptions } from '../dist/server/listeners.js';

const { values } = parseArgs({ options: { 'cert-dir': { type: 'string' }, port: { type: 'string' }, parse: { type: 'boolean', default: false } } });

const ANSWER = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response: { uid: '7f3c0000-6a1e-4b2d-9c1f-00009e3779b9', allowed: true },
});
const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(ANSWER) };

function answer(res) {
  res.writeHead(200, HEADERS);
  res.end(ANSWER);
}

const server = createServer(secureContextOptions(loadServingCertificate(values['cert-dir']), undefined), (req, res) => {
  if (!values.parse) {
    req.on('data', () => {});
    req.on('end', () => answer(res));
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    if (chunks.length > 0) JSON.parse(Buffer.concat(chunks).toString('utf8')); // a GET (the start-up probe) has no body
    answer(res);
  });
});
Object.assign(server, CONNECTION_TIMEOUTS);
server.listen(Number(values.port), '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', port: server.address().port })));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
