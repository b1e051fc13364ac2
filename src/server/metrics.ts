import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ACTIONS, INTERNAL_ERROR_RULE, RULE_IDS } from '../engine/index.js';
import { OPERATIONS } from '../admission/review.js';
import type { ReloadResult } from './certificates.js';

/** What became of a review: judged and allowed or denied, or allowed without a check. */
export const DECISIONS = ['allowed', 'denied', 'skipped'] as const;
export type Decision = (typeof DECISIONS)[number];

const RELOAD_RESULTS: readonly ReloadResult[] = ['success', 'failure'];

const PREFIX = 'mcpserver_webhook_';

/**
 * The webhook's Prometheus metrics, in a registry of its own so that tests and a second server
 * in one process never share counters. Label values come from closed sets only (operations,
 * decisions, rule IDs, HTTP codes), never from the request, so no input can add a series.
 */
export class WebhookMetrics {
  readonly registry = new Registry();

  readonly requests = this.counter(
    'admission_requests_total',
    'Admission reviews answered, by operation and decision (skipped: allowed without a check, not ours to judge).',
    ['operation', 'decision'],
  );

  readonly findings = this.counter(
    'findings_total',
    'Findings reported in admission responses, by rule ID and action (deny, warn, audit).',
    ['rule', 'action'],
  );

  readonly ruleErrors = this.counter(
    'rule_errors_total',
    'Rules that threw while checking an object; each such object was denied (fail closed).',
    ['rule'],
  );

  readonly rejectedRequests = this.counter(
    'rejected_requests_total',
    'Requests to /validate refused before judging (malformed, too large, wrong content type), by HTTP status code.',
    ['code'],
  );

  readonly duration = new Histogram({
    name: `${PREFIX}admission_duration_seconds`,
    help: 'Time from the arrival of an admission review to its answer, body parsing included.',
    // The API server gives a webhook 10 s by default; most answers take a millisecond or two.
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly inFlight = this.gauge('in_flight_requests', 'Requests to /validate being served right now.');

  readonly certificateExpiry = this.gauge(
    'certificate_expiry_timestamp_seconds',
    'When the serving certificate in use expires, in seconds since the Unix epoch.',
  );

  readonly certificateReloads = this.counter(
    'certificate_reloads_total',
    'Attempts to take a changed serving certificate into use, by result; on failure the previous one stays.',
    ['result'],
  );

  readonly policyReloads = this.counter(
    'policy_reloads_total',
    'Attempts to take a changed policy file into use, by result; on failure the previous policy stays.',
    ['result'],
  );

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Every series exists from the start at zero, so rate() and alerts work before the first event.
    for (const operation of OPERATIONS) for (const decision of DECISIONS) this.requests.inc({ operation, decision }, 0);
    for (const rule of [...RULE_IDS, INTERNAL_ERROR_RULE]) {
      for (const action of ACTIONS) if (action !== 'off') this.findings.inc({ rule, action }, 0);
    }
    for (const result of RELOAD_RESULTS) {
      this.certificateReloads.inc({ result }, 0);
      this.policyReloads.inc({ result }, 0);
    }
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private counter<Label extends string>(name: string, help: string, labelNames: readonly Label[]): Counter<Label> {
    return new Counter({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name: `${PREFIX}${name}`, help, registers: [this.registry] });
  }
}
