import { mapKey } from '../field-path.js';
import type { Rule } from '../rule.js';
import { hasHeaders, headerEntries } from './facts.js';

/** RFC 9110 field names are tokens; values may not hold line breaks or other control characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u0008\u000a-\u001f\u007f]/;

export const headerSyntax: Rule = {
  id: 'header-syntax',
  description: 'Header names are valid HTTP field names and values hold no line breaks or control characters.',
  fix: 'Rename the header to letters, digits and - only, and remove line breaks from its value.',
  defaults: { manifest: 'deny', admission: 'deny' },
  concerns: hasHeaders,
  check: ({ spec }) =>
    headerEntries(spec).flatMap(([name, value]) => {
      const field = ['spec', 'headers', mapKey(name)];
      if (!HEADER_NAME.test(name)) {
        return [
          {
            field,
            message: 'is not a valid HTTP header name, so requests to the server would fail: use letters, digits and - only',
            summary: 'is not a valid header name: use letters, digits, -',
          },
        ];
      }
      if (CONTROL_CHARACTER.test(value)) {
        return [
          {
            field,
            message: 'holds a line break or control character, which breaks the request or injects another header: remove it',
            summary: 'holds a line break or control character: remove it',
          },
        ];
      }
      return [];
    }),
};
