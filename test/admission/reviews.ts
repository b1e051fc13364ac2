import type { AdmissionApiVersion } from '../../src/admission/review.js';
import type { Operation } from '../../src/telemetry/vocabulary.js';

/** What a test may change in a review's request; the rest is what the API server sends for an MCPServer. */
export interface ReviewOverrides {
  readonly apiVersion?: AdmissionApiVersion;
  readonly uid?: string;
  readonly operation?: Operation;
  readonly group?: string;
  readonly version?: string;
  readonly resource?: string;
  readonly kind?: string;
  readonly subResource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun?: boolean;
  readonly oldObject?: unknown;
}

/** An AdmissionReview of `object`, as the API server sends it. */
export function admissionReview(object: unknown, overrides: ReviewOverrides = {}): Record<string, unknown> {
  const metadata = (object as { metadata?: { name?: string; namespace?: string } } | undefined)?.metadata;
  const group = overrides.group ?? 'muster.giantswarm.io';
  const version = overrides.version ?? 'v1alpha1';
  return {
    apiVersion: overrides.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: overrides.uid ?? 'b1f6e0a4-3c2d-4f5e-8a9b-0c1d2e3f4a5b',
      kind: { group, version, kind: overrides.kind ?? 'MCPServer' },
      resource: { group, version, resource: overrides.resource ?? 'mcpservers' },
      ...(overrides.subResource ? { subResource: overrides.subResource } : {}),
      name: overrides.name ?? metadata?.name ?? '',
      namespace: overrides.namespace ?? metadata?.namespace ?? 'muster',
      operation: overrides.operation ?? 'CREATE',
      userInfo: { username: 'jane@example.com', groups: ['system:authenticated'] },
      object,
      oldObject: overrides.oldObject ?? null,
      dryRun: overrides.dryRun ?? false,
    },
  };
}
