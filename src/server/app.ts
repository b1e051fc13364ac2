import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { AdmissionReviewError } from '../admission/review.js';
import { ClientGone, readJsonBody, RequestError } from './json-body.js';
import { errorFields } from '../telemetry/logger.js';
import type { Readiness } from './readiness.js';
import type { JudgeDependencies } from './judge.js';
import { judgeReview, recordDecision } from './review-handler.js';
import { answerVerdict, MAX_VERDICT_BODY_BYTES, VERDICT_PATH } from './verdict-route.js';

/**
 * The API server accepts objects of up to 3 MiB, and an UPDATE review carries the object and
 * its old version, plus the envelope: 7 MiB holds the largest legitimate review.
 */
export const MAX_BODY_BYTES = 7 * 1024 * 1024;

const ADMISSION_PATH = '/validate';

export interface AppDependencies extends JudgeDependencies {
  readonly readiness: Readiness;
}

/** Answers a request to one path; `query` is the part of the URL after `?`, or ''. */
type Handler = (req: IncomingMessage, res: ServerResponse, query: string) => void | Promise<void>;

/** A path's handlers: GET also answers HEAD (Node leaves the body out). */
interface Route {
  readonly GET?: Handler;
  readonly POST?: Handler;
  /** The 405 message for other methods; without it, another method is a 404. */
  readonly postOnly?: string;
}

type RouteTable = Readonly<Record<string, Route>>;

const NOT_FOUND = `not found: the webhook serves POST ${ADMISSION_PATH}, POST ${VERDICT_PATH}, GET /healthz, /readyz and /metrics`;

/**
 * The HTTPS application: `POST /validate`, `POST /v1/verdict` and the operations endpoints,
 * decided by one table (`webhookRoutes`) and served by express, with one exception. Every answer
 * is JSON (or text); client input gets a 4xx with a short message written here, never the
 * parser's own text, which may quote the body.
 *
 * `POST /validate` carries every MCPServer write in the cluster, and inside express it served
 * 29% to 50% fewer reviews a second at concurrency 1 and 16 in five runs, and added 0.07 to
 * 0.14 ms at p50 one at a time (docs/performance.md, "express and the admission route";
 * `npm run bench` measures it as the variant "admission in express"). So that one route of
 * the same table is answered before express's router: no routing, no request and response
 * prototypes swapped; the same handler, the same tracking of answers during shutdown and the
 * same fault handling as express's own routes. Every other request, `/validate` with another
 * method included, is express's.
 */
export function createWebhookApp(deps: AppDependencies): RequestListener {
  const routes = webhookRoutes(deps);
  const unanswered = new UnansweredResponses(deps.readiness);
  const app = expressApp(deps, routes, unanswered);
  const admission = routes[ADMISSION_PATH]?.POST;
  if (!admission) throw new Error(`the route table has no POST ${ADMISSION_PATH}`);
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'POST' || !url.startsWith(ADMISSION_PATH) || (url.length > ADMISSION_PATH.length && url[ADMISSION_PATH.length] !== '?')) {
      return void app(req, res);
    }
    serve(admission, req, res, unanswered, (error) => answerFault(deps, res, error));
  };
}

/**
 * The whole HTTPS application in express, `POST /validate` included: what `createWebhookApp`
 * would be without its explicit dispatch. The benchmark's variant serves this to measure what
 * express's routing costs the admission route.
 */
export function createExpressApp(deps: AppDependencies): Express {
  return expressApp(deps, webhookRoutes(deps), new UnansweredResponses(deps.readiness));
}

/** The plain-HTTP application of `--metrics-port`: the operations endpoints only. */
export function createOperationsApp(deps: AppDependencies): Express {
  return expressApp(deps, operationsRoutes(deps), new UnansweredResponses(deps.readiness));
}

/** Every route of the HTTPS application: the one place that decides them. */
function webhookRoutes(deps: AppDependencies): RouteTable {
  return {
    [ADMISSION_PATH]: jsonRoute(deps, MAX_BODY_BYTES, 'AdmissionReview', (body, _query, receivedAt) => {
      const judged = judgeReview(body, deps);
      return { answer: judged.answer, record: (answeredAt) => recordDecision(judged, receivedAt, answeredAt, deps) };
    }),
    [VERDICT_PATH]: jsonRoute(deps, MAX_VERDICT_BODY_BYTES, 'MCPServer', (body, query) => answerVerdict(body, query, deps)),
    ...operationsRoutes(deps),
  };
}

function operationsRoutes(deps: AppDependencies): RouteTable {
  return {
    '/healthz': { GET: (_req, res) => sendText(res, 200, 'text/plain; charset=utf-8', 'ok\n') },
    '/readyz': {
      GET: (_req, res) => {
        const reason = deps.readiness.notReadyBecause();
        sendText(res, reason ? 503 : 200, 'text/plain; charset=utf-8', reason ? `not ready: ${reason}\n` : 'ok\n');
      },
    },
    '/metrics': {
      GET: async (_req, res) => {
        const { contentType, body } = await deps.metrics.exposition();
        sendText(res, 200, contentType, body);
      },
    },
  };
}

/**
 * What a JSON route makes of a body: the answer, and maybe what to record about it once the
 * answer has left (`answeredAt`: `process.hrtime.bigint()` when it was handed to the connection).
 */
interface JsonAnswer {
  readonly answer: unknown;
  readonly record?: (answeredAt: bigint) => void;
}

/**
 * A POST route that reads a JSON body and answers with what `answer` makes of it. `receivedAt`
 * is `process.hrtime.bigint()` at the request's arrival, so a latency includes the parsing. The
 * record is made after the turn of the event loop in which the answer was written (Node sends
 * it in a tick of that turn): metrics and the log line never delay an answer.
 */
function jsonRoute(deps: AppDependencies, limit: number, expected: string, answer: (body: unknown, query: string, receivedAt: bigint) => JsonAnswer): Route {
  return {
    postOnly: `use POST to send an ${expected}`,
    POST: async (req, res, query) => {
      const receivedAt = process.hrtime.bigint();
      deps.metrics.inFlight.inc();
      try {
        const { answer: value, record } = answer(await readJsonBody(req, limit, expected), query, receivedAt);
        sendJson(res, 200, value);
        if (record) setImmediate(recordAfterAnswer, deps, record, process.hrtime.bigint());
      } finally {
        deps.metrics.inFlight.dec();
      }
    },
  };
}

/** Runs outside any request: a failure is logged as ours, never thrown into the event loop. */
function recordAfterAnswer(deps: AppDependencies, record: (answeredAt: bigint) => void, answeredAt: bigint): void {
  try {
    record(answeredAt);
  } catch (error) {
    deps.logger.error({ event: 'internal-error', error: errorFields(error) }, 'unexpected error while recording an answer');
  }
}

/**
 * An express application serving `routes` exactly: paths are case-sensitive and a trailing
 * slash is another path, as the API server calls exactly the path it was given. A request no
 * route takes is a 404, another method on a POST route a 405 with `Allow`; a fault of ours is
 * answered by the one fault handler.
 */
function expressApp(deps: AppDependencies, routes: RouteTable, unanswered: UnansweredResponses): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  for (const [path, route] of Object.entries(routes)) {
    const entry = app.route(path);
    if (route.GET) entry.get(expressHandler(route.GET, unanswered));
    if (route.POST) entry.post(expressHandler(route.POST, unanswered));
    const { postOnly } = route;
    if (postOnly) {
      entry.all(
        expressHandler((_req, res) => {
          res.setHeader('Allow', 'POST');
          reject(deps, res, 405, postOnly);
        }, unanswered),
      );
    }
  }
  app.use(expressHandler((_req, res) => sendError(res, 404, NOT_FOUND), unanswered));
  // Four parameters: express tells an error handler from a middleware by its arity.
  const faults: ErrorRequestHandler = (error: unknown, _req, res, _next) => answerFault(deps, res, error);
  app.use(faults);
  return app;
}

function expressHandler(handler: Handler, unanswered: UnansweredResponses): RequestHandler {
  return (req, res, next) => serve(handler, req, res, unanswered, next);
}

/**
 * Runs a handler with its answer tracked for shutdown; a failure, thrown or rejected, goes to
 * `fail` (express's `next`, or the fault handler itself on the admission route).
 */
function serve(handler: Handler, req: IncomingMessage, res: ServerResponse, unanswered: UnansweredResponses, fail: (error: unknown) => void): void {
  const url = req.url ?? '';
  const queryStart = url.indexOf('?');
  unanswered.add(res);
  let served: void | Promise<void>;
  try {
    served = handler(req, res, queryStart === -1 ? '' : url.slice(queryStart + 1));
  } catch (error) {
    served = Promise.reject(error);
  }
  if (!served) return unanswered.delete(res);
  served.then(
    () => unanswered.delete(res),
    (error: unknown) => {
      unanswered.delete(res);
      fail(error);
    },
  );
}

/**
 * What the one error-handling middleware does, and the admission route's failures too. A refused request (RequestError, AdmissionReviewError) gets
 * its 4xx with our own words; anything else is a fault of ours: a 500 without detail for the
 * client, the stack in the log for operators. A client already gone gets nothing.
 */
function answerFault(deps: AppDependencies, res: ServerResponse, error: unknown): void {
  if (error instanceof ClientGone) return;
  if (!res.headersSent) {
    if (error instanceof AdmissionReviewError) return reject(deps, res, 400, error.message);
    if (error instanceof RequestError) return reject(deps, res, error.status, error.message);
  }
  deps.logger.error({ event: 'internal-error', error: errorFields(error) }, 'unexpected error while serving a request');
  if (res.headersSent) res.destroy();
  else sendError(res, 500, 'internal error');
}

/**
 * Once shutdown begins, every answer closes its connection, those still being prepared too, so
 * that clients move to another replica. This is how a kept-alive connection ends during the
 * drain: the client drops it itself after its answer, so it never meets a close in the middle of
 * a request (the idle ones are left open, see `closeGracefully`).
 */
class UnansweredResponses {
  readonly #responses = new Set<ServerResponse>();

  constructor(private readonly readiness: Readiness) {
    readiness.onDrain(() => {
      for (const res of this.#responses) if (!res.headersSent) res.setHeader('Connection', 'close');
    });
  }

  add(res: ServerResponse): void {
    if (this.readiness.isDraining) res.setHeader('Connection', 'close');
    else this.#responses.add(res);
  }

  delete(res: ServerResponse): void {
    this.#responses.delete(res);
  }
}

function reject(deps: AppDependencies, res: ServerResponse, status: number, message: string): void {
  deps.metrics.rejectedRequests.inc({ code: String(status) });
  deps.logger.debug({ event: 'rejected', status, reason: message }, 'request refused');
  // The body may be unread: closing the connection spares reading it to reuse the connection.
  res.setHeader('Connection', 'close');
  sendError(res, status, message);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Headers and body leave in one write: a string body after writeHead joins the header block. */
function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
