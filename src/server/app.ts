import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AdmissionReviewError } from '../admission/review.js';
import { ClientGone, readJsonBody, RequestError } from './json-body.js';
import { errorFields } from '../telemetry/logger.js';
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

/** Answers a request to one path; `query` is the part of the URL after `?`, or ''. */
type Handler = (req: IncomingMessage, res: ServerResponse, query: string) => void | Promise<void>;

interface Route {
  /** Also answers HEAD (Node leaves the body out). */
  readonly GET?: Handler;
  readonly POST?: Handler;
  /** The 405 message for other methods; without it, another method is a 404. */
  readonly postOnly?: string;
}

/**
 * The HTTPS application: `POST /validate`, `POST /v1/verdict` and the operations endpoints. Every
 * answer is JSON (or text); client input gets a 4xx with a short message written here, never
 * the parser's own text, which may quote the body. Plain node:http with a table of exact paths:
 * five routes need no framework, and every layer on the admission path costs every request
 * (docs/performance.md).
 */
export function createWebhookApp(deps: AppDependencies): RequestListener {
  return router(deps, {
    '/validate': jsonRoute(deps, MAX_BODY_BYTES, 'AdmissionReview', (body, _query, receivedAt) => answerReview(body, receivedAt, deps)),
    [VERDICT_PATH]: jsonRoute(deps, MAX_VERDICT_BODY_BYTES, 'MCPServer', (body, query) => answerVerdict(body, query, deps)),
    ...operationsRoutes(deps),
  });
}

/** The plain-HTTP application of `--metrics-port`: the operations endpoints only. */
export function createOperationsApp(deps: AppDependencies): RequestListener {
  return router(deps, operationsRoutes(deps));
}

function operationsRoutes(deps: AppDependencies): Record<string, Route> {
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
 * A POST route that reads a JSON body and answers with what `answer` makes of it. `receivedAt`
 * is `process.hrtime.bigint()` at the request's arrival, so a latency includes the parsing.
 */
function jsonRoute(deps: AppDependencies, limit: number, expected: string, answer: (body: unknown, query: string, receivedAt: bigint) => unknown): Route {
  return {
    postOnly: `use POST to send an ${expected}`,
    POST: async (req, res, query) => {
      const receivedAt = process.hrtime.bigint();
      deps.metrics.inFlight.inc();
      try {
        sendJson(res, 200, answer(await readJsonBody(req, limit, expected), query, receivedAt));
      } finally {
        deps.metrics.inFlight.dec();
      }
    },
  };
}

function router(deps: AppDependencies, table: Record<string, Route>): RequestListener {
  const routes = new Map(Object.entries(table));
  const notFound = `not found: the webhook serves POST /validate, POST ${VERDICT_PATH}, GET /healthz, /readyz and /metrics`;
  const unanswered = new UnansweredResponses(deps.readiness);
  return (req, res) => {
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const route = routes.get(queryStart === -1 ? url : url.slice(0, queryStart));
    const handler = route && (req.method === 'HEAD' ? route.GET : req.method === 'GET' || req.method === 'POST' ? route[req.method] : undefined);
    unanswered.add(res);
    if (!handler) {
      if (!route?.postOnly) {
        sendError(res, 404, notFound);
      } else {
        res.setHeader('Allow', 'POST');
        reject(deps, res, 405, route.postOnly);
      }
      return unanswered.delete(res);
    }
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
        failed(deps, res, error);
        unanswered.delete(res);
      },
    );
  };
}

/**
 * Once shutdown begins, every answer closes its connection, those still being prepared too, so
 * that clients move to another replica. Node itself closes only the connections idle when the
 * server closes: one whose answer came later would stay open until its keep-alive timeout.
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

function failed(deps: AppDependencies, res: ServerResponse, error: unknown): void {
  if (error instanceof ClientGone) return;
  if (!res.headersSent) {
    if (error instanceof AdmissionReviewError) return reject(deps, res, 400, error.message);
    if (error instanceof RequestError) return reject(deps, res, error.status, error.message);
  }
  // Only a fault of ours gets here: log it in full, tell the client nothing about it.
  deps.logger.error({ event: 'internal-error', error: errorFields(error) }, 'unexpected error while serving a request');
  if (res.headersSent) res.destroy();
  else sendError(res, 500, 'internal error');
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
