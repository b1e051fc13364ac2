import type { Rule } from '../rule.js';
import { credentialFindings } from './credential-fields.js';
import { hasHeaders } from './facts.js';

/**
 * In Git a placeholder is exactly right: the pipeline injects the secret later. In the cluster
 * it means the injection failed, and Muster would send the placeholder text verbatim (it expands
 * nothing in spec.headers). An empty credential is the same failure: what `envsubst` leaves of
 * `Bearer ${TOKEN}` when TOKEN is unset.
 */
export const headerUnresolvedPlaceholder: Rule = {
  id: 'header-unresolved-placeholder',
  description:
    'No header still holds a placeholder (<token>, ${VAR}, %VAR%, {{ .Values.x }}, REPLACE_ME, ...) or an empty credential at admission.',
  fix: 'Make the deployment pipeline substitute the real value before it applies the object; Muster sends headers verbatim.',
  defaults: { manifest: 'audit', admission: 'deny' },
  concerns: hasHeaders,
  check: ({ spec }) =>
    credentialFindings(spec, 'headers', 'placeholder', ({ kind }) => ({
      message: `still holds ${kind}, and Muster sends headers verbatim: make the pipeline substitute the real value before applying`,
      summary: 'holds a placeholder: inject the value',
    })),
};
