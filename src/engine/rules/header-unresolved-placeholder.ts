import { mapKey } from '../field-path.js';
import { findPlaceholder, isCredentialHeader } from '../credentials.js';
import type { Rule } from '../rule.js';
import { headerEntries } from './facts.js';

/**
 * In Git a placeholder is exactly right: the pipeline injects the secret later. In the cluster
 * it means the injection failed, and Muster would send the placeholder text verbatim.
 */
export const headerUnresolvedPlaceholder: Rule = {
  id: 'header-unresolved-placeholder',
  description: 'No header still holds a placeholder (<token>, ${VAR}, {{ .Values.x }}, REPLACE_ME, ...) at admission.',
  fix: 'Make the deployment pipeline substitute the real value before it applies the object; Muster sends headers verbatim.',
  defaults: { manifest: 'audit', admission: 'deny' },
  check: ({ spec }) =>
    headerEntries(spec).flatMap(([name, value]) => {
      const placeholder = findPlaceholder(value, isCredentialHeader(name));
      return placeholder
        ? [
            {
              field: ['spec', 'headers', mapKey(name)],
              message: `spec.headers[${name}] still holds ${placeholder}, and Muster sends headers verbatim: make the pipeline substitute the real value before applying`,
            },
          ]
        : [];
    }),
};
