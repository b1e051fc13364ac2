import { describe, expect, it } from 'vitest';
import { auditAnnotations } from '../../src/admission/audit-annotations.js';
import { CAUSE_REASONS } from '../../src/admission/cause-reasons.js';
import { judgedResponse } from '../../src/admission/response.js';
import { AdmissionReviewError, parseAdmissionReview, reviewResponse } from '../../src/admission/review.js';
import { triage } from '../../src/admission/triage.js';
import { INTERNAL_ERROR_RULE, RULE_IDS, validate, type Finding, type Verdict } from '../../src/engine/index.js';
import { remote } from '../fixtures.js';
import { admissionReview } from './reviews.js';

const finding = (rule: string, path: string, message: string, action: Finding['action'] = 'warn'): Finding => ({
  rule,
  path,
  message,
  summary: message,
  action,
  field: path ? path.split('.') : [],
});

const verdictOf = (findings: Finding[]): Verdict => ({
  allowed: !findings.some((f) => f.action === 'deny'),
  denials: findings.filter((f) => f.action === 'deny'),
  warnings: findings.filter((f) => f.action === 'warn'),
  audits: findings.filter((f) => f.action === 'audit'),
  unchecked: [],
});

describe('parseAdmissionReview', () => {
  it('accepts v1 and v1beta1 reviews and keeps the version to answer in', () => {
    for (const apiVersion of ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const) {
      const review = parseAdmissionReview(admissionReview(remote(), { apiVersion }));
      expect(review.apiVersion).toBe(apiVersion);
      expect(reviewResponse(review, { uid: review.request.uid, allowed: true })).toEqual({
        apiVersion,
        kind: 'AdmissionReview',
        response: { uid: review.request.uid, allowed: true },
      });
    }
  });

  it.each([
    ['a list', [], 'the body must be a JSON object'],
    ['another API version', { ...admissionReview(remote()), apiVersion: 'admission.k8s.io/v2' }, 'apiVersion must be'],
    ['another kind', { ...admissionReview(remote()), kind: 'Pod' }, 'kind must be AdmissionReview'],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'request is required'],
    ['an empty uid', admissionReview(remote(), { uid: '' }), 'request.uid'],
    ['an unknown operation', withRequest({ operation: 'PATCH' }), 'request.operation must be one of'],
    ['no resource', withRequest({ resource: undefined }), 'request.resource must be'],
    ['a kind that is a string', withRequest({ kind: 'MCPServer' }), 'request.kind must be'],
    ['a numeric namespace', withRequest({ namespace: 7 }), 'request.namespace must be a string'],
    ['a dryRun that is a string', withRequest({ dryRun: 'yes' }), 'request.dryRun must be true or false'],
    ['a numeric username', withRequest({ userInfo: { username: 1 } }), 'request.userInfo'],
  ])('refuses %s with a message that says what was expected', (_name, body, expected) => {
    expect(() => parseAdmissionReview(body)).toThrow(AdmissionReviewError);
    expect(() => parseAdmissionReview(body)).toThrow(expected);
  });

  it('never quotes the input in its message', () => {
    const secret = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB';
    for (const body of [withRequest({ operation: secret }), { ...admissionReview(remote()), apiVersion: secret }, withRequest({ uid: { secret } })]) {
      expect(() => parseAdmissionReview(body)).toThrow(AdmissionReviewError);
      try {
        parseAdmissionReview(body);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

function withRequest(changes: Record<string, unknown>): Record<string, unknown> {
  const review = admissionReview(remote());
  return { ...review, request: { ...(review.request as Record<string, unknown>), ...changes } };
}

describe('triage', () => {
  const requestOf = (overrides: Parameters<typeof admissionReview>[1], object: unknown = remote()) =>
    parseAdmissionReview(admissionReview(object, overrides)).request;

  it('judges CREATE and UPDATE of mcpservers in muster.giantswarm.io', () => {
    expect(triage(requestOf({ operation: 'CREATE' }))).toBe('judge');
    expect(triage(requestOf({ operation: 'UPDATE', oldObject: remote() }))).toBe('judge');
  });

  it('lets DELETE, CONNECT, subresources and other resources through unchecked', () => {
    expect(triage(requestOf({ operation: 'DELETE' }, null))).toBe('operation');
    expect(triage(requestOf({ operation: 'CONNECT' }))).toBe('operation');
    expect(triage(requestOf({ subResource: 'status', operation: 'UPDATE' }))).toBe('subresource');
    expect(triage(requestOf({ group: 'toolhive.stacklok.dev', resource: 'mcpservers' }))).toBe('other-resource');
    expect(triage(requestOf({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap' }))).toBe('other-resource');
  });

  it('lets a terminating object lose its finalizer, but still judges a spec change while it terminates', () => {
    const bad = remote({ url: 'http://tools.example.com/mcp', headers: { Authorization: 'Bearer abc' } });
    const terminating: Record<string, unknown> = { ...bad, metadata: { ...(bad.metadata as object), deletionTimestamp: '2026-11-26T10:00:00Z' } };
    const withFinalizer = { ...terminating, metadata: { ...(terminating.metadata as object), finalizers: ['muster.giantswarm.io/cleanup'] } };
    expect(triage(requestOf({ operation: 'UPDATE', oldObject: withFinalizer }, terminating))).toBe('terminating');
    const changed = { ...terminating, spec: { ...(terminating.spec as object), timeout: 60 } };
    expect(triage(requestOf({ operation: 'UPDATE', oldObject: withFinalizer }, changed))).toBe('judge');
    expect(triage(requestOf({ operation: 'UPDATE', oldObject: bad }, bad))).toBe('judge');
  });

  it('refuses a CREATE of ours without an object: not a review the API server sends', () => {
    expect(() => triage(requestOf({ operation: 'CREATE' }, null))).toThrow('request.object is required for CREATE');
  });
});

describe('judgedResponse', () => {
  it('follows the Kubernetes shape for invalid objects, one cause per denying finding', () => {
    const verdict = validate(remote({ url: 'http://tools.example.com/mcp', headers: { Authorization: 'Bearer abc', 'bad header': 'x' } }), {
      context: 'admission',
    });
    const response = judgedResponse('uid-1', verdict, 'example');
    expect(response.allowed).toBe(false);
    expect(response.status).toMatchObject({ status: 'Failure', code: 422, reason: 'Invalid' });
    expect(response.status?.details).toMatchObject({ group: 'muster.giantswarm.io', kind: 'MCPServer', name: 'example' });
    const causes = response.status?.details?.causes ?? [];
    expect(causes).toHaveLength(verdict.denials.length);
    for (const [index, denial] of verdict.denials.entries()) {
      expect(causes[index]).toEqual({ field: denial.path, reason: CAUSE_REASONS[denial.rule], message: `${denial.message} [${denial.rule}]` });
    }
    expect(response.status?.message).toBe(
      `MCPServer.muster.giantswarm.io "example" is invalid: ${verdict.denials.map((d) => `${d.path}: ${d.message} [${d.rule}]`).join('; ')}`,
    );
  });

  it('leaves out the field of a cause about the whole object', () => {
    const message = 'the webhook could not finish checking this object';
    const response = judgedResponse('uid-1', verdictOf([finding(INTERNAL_ERROR_RULE, '', message, 'deny')]), 'x');
    expect(response.status?.details?.causes).toEqual([{ reason: 'InternalError', message: `${message} [${INTERNAL_ERROR_RULE}]` }]);
    expect(response.status?.message).toBe(`MCPServer.muster.giantswarm.io "x" is invalid: ${message} [${INTERNAL_ERROR_RULE}]`);
  });

  it('allows without a status, and records the decision and the rules in audit annotations', () => {
    const response = judgedResponse('uid-2', verdictOf([finding('plaintext-url', 'spec.url', 'uses plain http://'), finding('b-rule', 'spec.x', 'm', 'audit')]), 'x');
    expect(response).toEqual({
      uid: 'uid-2',
      allowed: true,
      warnings: ['spec.url: uses plain http:// [plaintext-url]'],
      auditAnnotations: { decision: 'allowed', 'warned-by': 'plaintext-url', 'audited-by': 'b-rule' },
    });
  });

  it('has a cause reason for every rule of the catalogue and for internal errors', () => {
    expect(Object.keys(CAUSE_REASONS).sort()).toEqual([...RULE_IDS, INTERNAL_ERROR_RULE].sort());
  });
});

describe('auditAnnotations', () => {
  // The API server prefixes each key with "<webhook name>/" and requires a qualified name.
  const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

  it('uses keys that make valid qualified names, and lists each rule once, sorted', () => {
    const annotations = auditAnnotations(
      verdictOf([
        finding('remote-url-required', 'spec.url', 'a', 'deny'),
        finding('header-syntax', 'spec.headers[a]', 'b', 'deny'),
        finding('header-syntax', 'spec.headers[b]', 'c', 'deny'),
        finding('plaintext-url', 'spec.url', 'd', 'warn'),
        finding('header-unresolved-placeholder', 'spec.headers[c]', 'e', 'audit'),
      ]),
    );
    expect(annotations).toEqual({
      decision: 'denied',
      'denied-by': 'header-syntax,remote-url-required',
      'warned-by': 'plaintext-url',
      'audited-by': 'header-unresolved-placeholder',
    });
    for (const key of Object.keys(annotations)) expect(key).toMatch(QUALIFIED_NAME_PART);
  });
});
