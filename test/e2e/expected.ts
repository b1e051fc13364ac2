import { Writable } from 'node:stream';
import { expect } from 'vitest';
import type { AdmissionResponse } from '../../src/admission/review.js';
import { Policy } from '../../src/engine/index.js';
import { SchemaDriftLog } from '../../src/server/judge.js';
import { answerReview } from '../../src/server/review-handler.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { WebhookMetrics } from '../../src/telemetry/metrics.js';
import type { Operation } from '../../src/telemetry/vocabulary.js';
import { admissionReview } from '../admission/reviews.js';
import type { KubeAnswer } from './kube-http.js';
import { WEBHOOK_NAME } from './webhook.js';

/**
 * What the webhook should answer, worked out by the project's own code at test time: the same
 * function the server runs for a review (engine, ratcheting, response shape, warnings), given
 * the object as the API server had it. The end-to-end tests then check that what reached the
 * client through the API server is exactly that, so they hold whatever the rules' words are.
 */
export function expectedAnswer(request: {
  readonly operation: Operation;
  readonly object: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}): AdmissionResponse {
  const review = admissionReview(request.object, {
    operation: request.operation,
    ...(request.oldObject === undefined ? {} : { oldObject: request.oldObject }),
    dryRun: request.dryRun ?? false,
  });
  const metrics = new WebhookMetrics();
  const logger = createLogger('silent', discard());
  const deps = { policy: () => Policy.builtIn(), metrics, logger, drift: new SchemaDriftLog(logger, metrics) };
  return answerReview(review, process.hrtime.bigint(), deps).response;
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

/**
 * How kube-apiserver passes a webhook's denial to the client: the webhook's Status, its message
 * after `admission webhook "NAME" denied the request: ` (newer versions put
 * `<resource> "<name>" is forbidden: ` before that). k8s.io/apiserver/pkg/admission/plugin/
 * webhook/errors/statuserror.go, ToStatusErr.
 */
export function deniedBy(webhookName: string, message: string): string {
  return `admission webhook "${webhookName}" denied the request: ${message}`;
}

/**
 * Checks that the API server's answer to a write is the webhook's `expected` answer as a client
 * receives it: each warning as a `Warning` header, and a denial as the API server's error with
 * the webhook's code, reason, details and causes, its message after the API server's words.
 */
export function expectAnswer(answer: KubeAnswer, expected: AdmissionResponse, what: string): void {
  expect(answer.warnings, `${what}: warnings`).toEqual(expected.warnings ?? []);
  if (expected.allowed) {
    expect(answer.status, `${what}: ${answer.text}`).toBeLessThan(300);
    return;
  }
  const status = expected.status;
  expect(answer.status, `${what}: ${answer.text}`).toBe(status?.code);
  expect(answer.body, what).toMatchObject({ kind: 'Status', status: 'Failure', reason: status?.reason, code: status?.code });
  expect(answer.body.details, `${what}: details`).toEqual(status?.details);
  // The end of the message, so that a difference shows as a diff of the two texts.
  const message = deniedBy(WEBHOOK_NAME, status?.message ?? '');
  expect(String(answer.body.message).slice(-message.length), `${what}: message`).toBe(message);
}
