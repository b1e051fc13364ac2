// The benchmark's workload: AdmissionReviews as the API server sends them, built from the
// manifests in examples/, in the mix a busy cluster sees: about 70% allowed, 20% denied and 10%
// allowed with warnings, a share of them UPDATEs that carry the old object. Every review is
// judged here by the engine and the mix is checked, so a change to the rules or the examples
// that shifts the mix stops the benchmark instead of quietly measuring something else.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { validate } from '../dist/engine/index.js';

const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** How many reviews the mix holds, and how many of each outcome. */
export const MIX = { allowed: 70, denied: 20, warned: 10 };
/** Every third review is an UPDATE, carrying `oldObject`. */
const UPDATE_EVERY = 3;
/** The sizes the issue asks for; real reviews of small objects with managedFields are this size. */
export const SIZE_RANGE = { min: 2 * 1024, max: 4 * 1024 };

/** The class of a verdict at admission: what the API server does with it. */
export function outcome(verdict) {
  if (!verdict.allowed) return 'denied';
  return verdict.warnings.length > 0 ? 'warned' : 'allowed';
}

/** Every MCPServer in examples/ (one per file), grouped by its outcome at admission. */
function examplesByOutcome() {
  const files = [
    ...readdirSync(EXAMPLES).map((name) => join(EXAMPLES, name)),
    ...readdirSync(join(EXAMPLES, 'invalid')).map((name) => join(EXAMPLES, 'invalid', name)),
  ].filter((file) => file.endsWith('.yaml'));
  const groups = { allowed: [], denied: [], warned: [] };
  for (const file of files.sort()) {
    const object = load(readFileSync(file, 'utf8'));
    groups[outcome(validate(object, { context: 'admission' }))].push(object);
  }
  return groups;
}

/** A deterministic UID-shaped string, so that two runs send byte-identical reviews. */
function uid(n) {
  const hex = (n * 2654435761 + 0x9e3779b9).toString(16).padStart(12, '0').slice(-12);
  return `7f3c${hex.slice(0, 4)}-6a1e-4b2d-9c1f-${hex}`;
}

/** The metadata the API server adds to a stored object, managedFields included (they dominate its size). */
function storedMetadata(object, n, generation) {
  const { name, namespace = 'muster', labels, annotations } = object.metadata ?? {};
  const manager = n % 2 === 0 ? 'kustomize-controller' : 'kubectl-client-side-apply';
  return {
    name: name ?? `generated-${n}`,
    namespace,
    uid: uid(n + 100_000),
    resourceVersion: String(4_181_000 + n * 17 + generation),
    generation,
    creationTimestamp: '2026-10-02T09:14:27Z',
    labels: {
      'app.kubernetes.io/name': name ?? 'mcpserver',
      'kustomize.toolkit.fluxcd.io/name': 'mcp-servers',
      'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
      ...labels,
    },
    annotations: { 'muster.giantswarm.io/owner': 'platform-team', ...annotations },
    managedFields: [
      {
        manager,
        operation: n % 2 === 0 ? 'Apply' : 'Update',
        apiVersion: 'muster.giantswarm.io/v1alpha1',
        time: '2026-11-20T16:02:51Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': {
            'f:labels': {
              'f:app.kubernetes.io/name': {},
              'f:kustomize.toolkit.fluxcd.io/name': {},
              'f:kustomize.toolkit.fluxcd.io/namespace': {},
            },
            'f:annotations': { 'f:muster.giantswarm.io/owner': {} },
          },
          'f:spec': Object.fromEntries(Object.keys(object.spec ?? {}).map((key) => [`f:${key}`, {}])),
        },
      },
    ],
  };
}

/** `before`: the spec of the old version of an UPDATE, when the edit changed more than its description. */
function review(object, n, before) {
  const isUpdate = n % UPDATE_EVERY === UPDATE_EVERY - 1;
  const stored = { ...object, metadata: storedMetadata(object, n, isUpdate ? 3 : 1) };
  const group = { group: 'muster.giantswarm.io', version: 'v1alpha1' };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: uid(n),
      kind: { ...group, kind: 'MCPServer' },
      resource: { ...group, resource: 'mcpservers' },
      requestKind: { ...group, kind: 'MCPServer' },
      requestResource: { ...group, resource: 'mcpservers' },
      name: stored.metadata.name,
      namespace: stored.metadata.namespace,
      operation: isUpdate ? 'UPDATE' : 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:flux-system:kustomize-controller',
        uid: uid(n + 200_000),
        groups: ['system:serviceaccounts', 'system:serviceaccounts:flux-system', 'system:authenticated'],
        // What the API server adds for a bound service account token (Kubernetes 1.30 and later).
        extra: {
          'authentication.kubernetes.io/credential-id': [`JTI=${uid(n + 300_000)}`],
          'authentication.kubernetes.io/node-name': ['worker-eu-central-1a-7'],
          'authentication.kubernetes.io/pod-name': ['kustomize-controller-6f8c9d7b54-x2kqp'],
          'authentication.kubernetes.io/pod-uid': [uid(n % 5)],
        },
      },
      object: stored,
      // The old version differs as an edit would: an older generation and description, or for a
      // denied review a valid spec, so that the edit brings the problem and ratcheting lets
      // nothing through.
      oldObject: isUpdate
        ? { ...stored, metadata: { ...stored.metadata, generation: 2 }, spec: before ?? { ...stored.spec, description: 'before the edit' } }
        : null,
      dryRun: false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: isUpdate ? 'UpdateOptions' : 'CreateOptions',
        fieldManager: 'kustomize-controller',
        fieldValidation: 'Strict',
      },
    },
  };
}

/**
 * The mix: MIX.allowed + MIX.denied + MIX.warned reviews as JSON texts, interleaved so that every
 * stretch of the sequence has the same mix. Each comes with the outcome the engine gives it.
 */
export function buildPayloads() {
  const groups = examplesByOutcome();
  const total = MIX.allowed + MIX.denied + MIX.warned;
  const taken = { allowed: 0, denied: 0, warned: 0 };
  const payloads = [];
  for (let n = 0; n < total; n++) {
    // Pick the class that is furthest behind its share at this point of the sequence.
    const kind = Object.keys(MIX).reduce((best, key) =>
      MIX[key] * (n + 1) - taken[key] * total > MIX[best] * (n + 1) - taken[best] * total ? key : best,
    );
    const examples = groups[kind];
    const object = examples[taken[kind]++ % examples.length];
    const body = review(object, n, kind === 'denied' ? groups.allowed[0].spec : undefined);
    payloads.push({ body: JSON.stringify(body), expected: kind, operation: body.request.operation });
  }
  checkMix(payloads);
  return payloads;
}

/** Fails loudly when the mix is not what the benchmark claims to measure. */
function checkMix(payloads) {
  const counts = { allowed: 0, denied: 0, warned: 0 };
  for (const payload of payloads) {
    const { request } = JSON.parse(payload.body);
    // As the webhook judges it: an UPDATE against its old object.
    const judged = outcome(validate(request.object, { context: 'admission', ...(request.operation === 'UPDATE' ? { oldObject: request.oldObject } : {}) }));
    if (judged !== payload.expected) throw new Error(`payload ${request.uid}: expected ${payload.expected}, the engine says ${judged}`);
    counts[judged]++;
    const size = Buffer.byteLength(payload.body);
    if (size < SIZE_RANGE.min || size > SIZE_RANGE.max) {
      throw new Error(`payload ${request.uid} (${request.name}) is ${size} bytes, outside ${SIZE_RANGE.min}-${SIZE_RANGE.max}`);
    }
  }
  for (const key of Object.keys(MIX)) {
    if (counts[key] !== MIX[key]) throw new Error(`the mix holds ${counts[key]} ${key} reviews, not ${MIX[key]}`);
  }
}

/** A one-line description of the mix, for the reports. */
export function describeMix(payloads) {
  const sizes = payloads.map((payload) => Buffer.byteLength(payload.body));
  const updates = payloads.filter((payload) => payload.operation === 'UPDATE').length;
  return {
    reviews: payloads.length,
    allowed: MIX.allowed,
    denied: MIX.denied,
    warned: MIX.warned,
    updates,
    minBytes: Math.min(...sizes),
    maxBytes: Math.max(...sizes),
    meanBytes: Math.round(sizes.reduce((sum, size) => sum + size, 0) / sizes.length),
  };
}
