/**
 * js-yaml's reasons for refusing a text (the messages thrown in js-yaml 5.5's
 * dist/js-yaml.mjs: readDoubleQuotedScalar, readFlowScalarBreak, readBlockMapping, ...), said
 * in the words of someone who writes manifests. A reason not listed here is passed on as it is.
 */
const PLAIN_REASONS: readonly (readonly [RegExp, string])[] = [
  [/^unexpected end of the (stream|document) within a double quoted scalar$/, 'a double-quoted string is not closed: the closing " is missing'],
  [/^unexpected end of the (stream|document) within a single quoted scalar$/, "a single-quoted string is not closed: the closing ' is missing"],
  [/^unexpected end of the stream within a flow collection$/, 'a [ or { is not closed: the closing ] or } is missing'],
  [/^missed comma between flow collection entries$/, 'a comma is missing between two entries of a [...] list or {...} map'],
  [/^deficient indentation$/, 'a line is indented less than the value it continues'],
  [/^bad indentation of a mapping entry$/, 'a key is not indented like the keys beside it, or the line above it lacks its colon'],
  [/^bad indentation of a sequence entry$/, 'a list item (- ...) is not indented like the items beside it'],
  [/^duplicated mapping key$/, 'the same key appears twice in one map (kubectl refuses that too): keep one'],
  [/^tab characters must not be used in indentation$/, 'a tab is used for indentation: YAML indents with spaces only'],
  [/^end of the stream or a document separator is expected$/, 'text follows where the document should end: a line is indented wrongly, or a colon is missing'],
  [/^can not read a block mapping entry; a multiline key may not be an implicit key$/, 'a key runs on over two lines: a colon is missing after it, or a quote before it is not closed'],
  [/^a whitespace character is expected after the key-value separator/, 'a colon after a key must be followed by a space'],
  [/^unknown escape sequence$/, 'a double-quoted string holds a backslash escape YAML does not know: write \\\\ for a backslash, or use single quotes'],
  [/^expected valid JSON character$|^the stream contains non-printable characters$/, 'the text holds a control character: remove it'],
  [/^aliases exceeded maxAliases/, 'the document uses more aliases (*name) than a manifest needs: expand them'],
];

export function plainYamlReason(reason: string): string {
  return PLAIN_REASONS.find(([pattern]) => pattern.test(reason))?.[1] ?? reason;
}
