// The webhook with its admission route inside express: the whole application of
// createExpressApp, POST /validate routed by express like every other path, without the
// explicit dispatch the served application puts before express's router. Everything else is
// as `mcpserver-webhook serve` has it: the built-in policy, the certificate, TLS settings and
// connection timeouts, the metrics, and the decision log at info on standard output.
//
//   node bench/express-admission-server.mjs --cert-dir DIR --port PORT
import { parseArgs } from 'node:util';
import { Policy } from '../dist/engine/index.js';
import { createExpressApp } from '../dist/server/app.js';
import { loadServingCertificate } from '../dist/server/certificates.js';
import { SchemaDriftLog } from '../dist/server/judge.js';
import { createTlsListener } from '../dist/server/listeners.js';
import { Readiness } from '../dist/server/readiness.js';
import { createLogger } from '../dist/telemetry/logger.js';
import { WebhookMetrics } from '../dist/telemetry/metrics.js';

const { values } = parseArgs({ options: { 'cert-dir': { type: 'string' }, port: { type: 'string' } } });

const logger = createLogger('info', process.stdout);
const metrics = new WebhookMetrics();
const readiness = new Readiness();
readiness.loaded('policy');
readiness.loaded('certificates');
const policy = Policy.builtIn();
const app = createExpressApp({ policy: () => policy, metrics, logger, readiness, drift: new SchemaDriftLog(logger, metrics) });
const server = createTlsListener(app, loadServingCertificate(values['cert-dir']), undefined);
server.listen(Number(values.port), '127.0.0.1', () => logger.info({ event: 'listening', port: server.address().port }, 'listening'));
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
