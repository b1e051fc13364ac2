import { STATUS_CODES } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { AdmissionReviewError } from '../admission/review.js';
import { jsonBody, RequestError } from './json-body.js';
import { errorFields } from './logger.js';
import type { Readiness } from './readiness.js';
import type { JudgeDependencies } from './judge.js';
import { answerReview } from './review-handler.js';
import { answerVerdict, MAX_VERDICT_BODY_BYTES, VERDICT_PATH } from './verdict-route.js';

/**
 * The API server accepts objects of up to 3 MiB, and an UPDATE review carries the object and
 * its old version, plus the envelope: 7 MiB holds the largest legitimate review.
 */
export const MAX_BODY_BYTES = 7 * 1024 * 1024;

export interface AppDependencies extends JudgeDependencies {
  readonly readiness: Readiness;
}

/**
 * The HTTPS application: `POST /validate`, `POST /v1/verdict` and the operations endpoints. Every answer is JSON
 * (or the metrics text); client input gets a 4xx with a short message written here, never
 * the parser's own text, which may quote the body.
 */
export function createWebhookApp(deps: AppDependencies): Express {
  const app = baseApp(deps);
  app.post('/validate', trackRequest(deps), requireJson, jsonBody(MAX_BODY_BYTES, 'AdmissionReview'), (req, res) => {
    res.json(answerReview(req.body, res.locals.receivedAt as bigint, deps));
  });
  app.all('/validate', onlyPost('use POST to send an AdmissionReview'));
  app.post(VERDICT_PATH, trackRequest(deps), requireJson, jsonBody(MAX_VERDICT_BODY_BYTES, 'MCPServer'), answerVerdict(deps));
  app.all(VERDICT_PATH, onlyPost('use POST to send an MCPServer'));
  return finish(app, deps);
}

/** The plain-HTTP application of `--metrics-port`: the operations endpoints only. */
export function createOperationsApp(deps: AppDependencies): Express {
  return finish(baseApp(deps), deps);
}

function baseApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(closeConnectionsOnDrain(deps.readiness));
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const reason = deps.readiness.notReadyBecause();
    res.status(reason ? 503 : 200).type('text/plain').send(reason ? `not ready: ${reason}\n` : 'ok\n');
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, body } = await deps.metrics.exposition();
    res.type(contentType).send(body);
  });
  return app;
}

function finish(app: Express, deps: AppDependencies): Express {
  app.use((_req, res) => sendError(res, 404, `not found: the webhook serves POST /validate, POST ${VERDICT_PATH}, GET /healthz, /readyz and /metrics`));
  app.use(errorHandler(deps));
  return app;
}

/**
 * Once shutdown begins, every answer closes its connection, those still being prepared too, so
 * that clients move to another replica. Node itself closes only the connections idle when the
 * server closes: one whose answer came later would stay open until its keep-alive timeout.
 */
function closeConnectionsOnDrain(readiness: Readiness): RequestHandler {
  const unanswered = new Set<express.Response>();
  readiness.onDrain(() => {
    for (const res of unanswered) if (!res.headersSent) res.set('Connection', 'close');
  });
  return (_req, res, next) => {
    if (readiness.isDraining) {
      res.set('Connection', 'close');
    } else {
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
    }
    next();
  };
}

function trackRequest({ metrics }: AppDependencies): RequestHandler {
  return (_req, res, next) => {
    res.locals.receivedAt = process.hrtime.bigint();
    metrics.inFlight.inc();
    res.once('close', () => metrics.inFlight.dec());
    next();
  };
}

function onlyPost(message: string): RequestHandler {
  return (_req, res, next) => {
    res.set('Allow', 'POST');
    next(new RequestError(405, message));
  };
}

const requireJson: RequestHandler = (req, _res, next) => {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType)) return next();
  next(new RequestError(415, 'Content-Type must be application/json'));
};

function errorHandler(deps: AppDependencies): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof AdmissionReviewError) return reject(deps, res, 400, error.message);
    if (error instanceof RequestError) return reject(deps, res, error.status, error.message);
    // The router marks a client's mistake, such as a malformed path, with a 4xx status (http-errors).
    const { status } = error as { status?: unknown };
    if (typeof status === 'number' && status >= 400 && status < 500) return reject(deps, res, status, STATUS_CODES[status] ?? 'bad request');
    // Only a fault of ours gets here: log it in full, tell the client nothing about it.
    deps.logger.error({ event: 'internal-error', error: errorFields(error) }, 'unexpected error while serving a request');
    sendError(res, 500, 'internal error');
  };
}

function reject(deps: AppDependencies, res: express.Response, status: number, message: string): void {
  deps.metrics.rejectedRequests.inc({ code: String(status) });
  deps.logger.debug({ event: 'rejected', status, reason: message }, 'request refused');
  // The body may be unread: closing the connection spares reading it to reuse the connection.
  res.set('Connection', 'close');
  sendError(res, status, message);
}

function sendError(res: express.Response, status: number, message: string): void {
  res.status(status).json({ error: message });
}

