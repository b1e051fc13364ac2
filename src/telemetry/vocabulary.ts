/**
 * The closed sets the metrics and logs speak in: every label value a series can take. Kept apart
 * from the modules that use them (the admission protocol, the continuous audit) and free of the
 * Kubernetes client, which the server loads only with --audit, so that the metrics can declare
 * every series from the start.
 */

/** The operations an AdmissionReview can carry. */
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * What the webhook's schema refuses in an object the API server accepted: a field it does not know
 * (`unknown-field`), or a value it does not allow (`schema-violation`). Either way the cluster's
 * CRD is newer than the webhook's.
 */
export const DRIFT_KINDS = ['unknown-field', 'schema-violation'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

/** What became of a changed certificate or policy file. */
export const RELOAD_RESULTS = ['success', 'failure'] as const;
export type ReloadResult = (typeof RELOAD_RESULTS)[number];

export const CLUSTER_ERROR_KINDS = ['config', 'unreachable', 'unauthorized', 'forbidden', 'not-found', 'conflict', 'expired', 'too-large', 'invalid', 'throttled', 'rejected'] as const;
/**
 * What went wrong with a cluster request: `config` (no kubeconfig, a broken one, credentials
 * that could not be produced), `unreachable` (no HTTP answer: refused, unknown host, TLS
 * failure, timeout), `unauthorized` (401), `forbidden` (403, RBAC), `not-found` (404; for a
 * custom resource, the CRD is missing), `conflict` (409: changed since it was read, or already
 * exists), `expired` (410: a continue token or a watch's resourceVersion outlived the API
 * server's history), `too-large` (413: the body is over the API server's limit), `invalid` (400 or
 * 422: the object breaks its schema or a validation), `throttled` (429: the API server's priority
 * and fairness turned the request away for now), `rejected` (any other answer).
 */
export type ClusterErrorKind = (typeof CLUSTER_ERROR_KINDS)[number];

export const RESTART_REASONS = ['closed', 'timeout', 'expired', 'error'] as const;
/**
 * Why a watch was started again: `closed` by the API server (it ends every watch after a while),
 * `timeout` (30 s without a byte), `expired` (410 Gone: the resourceVersion left the API server's
 * history, so the collection is listed again), `error` (any other failure, retried with backoff).
 */
export type RestartReason = (typeof RESTART_REASONS)[number];

/** The collections the audit and the fleet view watch (Secrets by their metadata only). */
export const WATCHED_RESOURCES = ['mcpservers', 'namespaces', 'secrets'] as const;
export type WatchedResource = (typeof WATCHED_RESOURCES)[number];

/** What makes the audit judge every MCPServer again. */
export const AUDIT_TRIGGERS = ['list', 'policy-reload', 'namespace-labels'] as const;
export type AuditTrigger = (typeof AUDIT_TRIGGERS)[number];

/** What the audit writes. */
export const WRITTEN_RESOURCES = ['policyreports', 'events', 'leases'] as const;
export type WrittenResource = (typeof WRITTEN_RESOURCES)[number];
