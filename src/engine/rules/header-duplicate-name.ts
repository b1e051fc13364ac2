import { mapKey } from '../field-path.js';
import type { Rule } from '../rule.js';
import { hasHeaders, headerEntries } from './facts.js';

/** HTTP header names are case-insensitive; which of two spellings wins in Muster is not defined. */
export const headerDuplicateName: Rule = {
  id: 'header-duplicate-name',
  description: 'No two headers differ only by letter case (HTTP header names are case-insensitive).',
  fix: 'Keep one spelling of the header and remove the others.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: hasHeaders,
  check: ({ spec }) => {
    const byName = new Map<string, string[]>();
    for (const [name] of headerEntries(spec)) {
      const spellings = byName.get(name.toLowerCase()) ?? [];
      spellings.push(name);
      byName.set(name.toLowerCase(), spellings);
    }
    return [...byName.values()]
      .filter((spellings) => spellings.length > 1)
      .flatMap((spellings) => {
        const [kept = '', ...others] = [...spellings].sort();
        return others.map((name) => ({
          field: ['spec', 'headers', mapKey(name)],
          message: `is the same HTTP header as spec.headers[${kept}], and which one is sent is undefined: keep one`,
          summary: 'repeats a header in another case: keep one',
        }));
      });
  },
};
