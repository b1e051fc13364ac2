import type { V1Status, V1UserInfo } from '@kubernetes/client-node';
import { isPlainObject } from '../engine/schema.js';
import { OPERATIONS, type Operation } from '../telemetry/vocabulary.js';

/**
 * The AdmissionReview wire format, as far as this webhook reads and writes it. The client
 * library has no types for it (it is not a served API), so the minimal ones live here; Status
 * and UserInfo are the library's.
 */
export const ADMISSION_API_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionApiVersion = (typeof ADMISSION_API_VERSIONS)[number];


export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  readonly subResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo?: V1UserInfo;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: V1Status;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

/** What the API server sends: the review, with the version it must be answered in. */
export interface AdmissionReviewRequest {
  readonly apiVersion: AdmissionApiVersion;
  readonly kind: 'AdmissionReview';
  readonly request: AdmissionRequest;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: AdmissionApiVersion;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/**
 * A body that is JSON but not an AdmissionReview this webhook can answer. The message says
 * what was expected and never quotes the input, which may hold anything.
 */
export class AdmissionReviewError extends Error {
  override readonly name = 'AdmissionReviewError';
}

/**
 * Checks the parts of a review the webhook relies on and returns it typed. The object itself
 * is left as it came: judging it is the engine's job, and a broken object is a denial, not a
 * broken review.
 */
export function parseAdmissionReview(body: unknown): AdmissionReviewRequest {
  if (!isPlainObject(body)) throw new AdmissionReviewError('the body must be a JSON object: an AdmissionReview');
  const { apiVersion, kind, request } = body;
  if (!ADMISSION_API_VERSIONS.includes(apiVersion as AdmissionApiVersion)) {
    throw new AdmissionReviewError(`apiVersion must be ${ADMISSION_API_VERSIONS.join(' or ')}`);
  }
  if (kind !== 'AdmissionReview') throw new AdmissionReviewError('kind must be AdmissionReview');
  if (!isPlainObject(request)) throw new AdmissionReviewError('request is required and must be an object');

  const { uid, operation, kind: requestKind, resource } = request;
  if (typeof uid !== 'string' || uid === '') throw new AdmissionReviewError('request.uid must be a non-empty string');
  if (!OPERATIONS.includes(operation as Operation)) {
    throw new AdmissionReviewError(`request.operation must be one of ${OPERATIONS.join(', ')}`);
  }
  requireStrings(requestKind, 'request.kind', ['group', 'version', 'kind']);
  requireStrings(resource, 'request.resource', ['group', 'version', 'resource']);
  for (const field of ['subResource', 'name', 'namespace'] as const) {
    if (request[field] !== undefined && typeof request[field] !== 'string') {
      throw new AdmissionReviewError(`request.${field} must be a string`);
    }
  }
  if (request.dryRun !== undefined && typeof request.dryRun !== 'boolean') {
    throw new AdmissionReviewError('request.dryRun must be true or false');
  }
  const { userInfo } = request;
  if (userInfo !== undefined && !(isPlainObject(userInfo) && ['string', 'undefined'].includes(typeof userInfo.username))) {
    throw new AdmissionReviewError('request.userInfo must be an object whose username is a string');
  }
  return { apiVersion: apiVersion as AdmissionApiVersion, kind, request: request as unknown as AdmissionRequest };
}

function requireStrings(value: unknown, name: string, fields: readonly string[]): void {
  if (!isPlainObject(value) || fields.some((field) => typeof value[field] !== 'string')) {
    throw new AdmissionReviewError(`${name} must be an object with string fields ${fields.join(', ')}`);
  }
}

/** The answer to a review: same apiVersion and kind as the question, as the API server requires. */
export function reviewResponse(review: AdmissionReviewRequest, response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response };
}
