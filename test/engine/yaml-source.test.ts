import { describe, expect, it } from 'vitest';
import { isYamlError, parseYamlDocuments, type YamlError } from '../../src/engine/yaml-source.js';

const server = (name: string, spec: string): string =>
  `apiVersion: muster.giantswarm.io/v1alpha1\nkind: MCPServer\nmetadata:\n  name: ${name}\n  namespace: muster\nspec:\n${spec}`;

function errorsOf(text: string): YamlError[] {
  return parseYamlDocuments(text).filter(isYamlError);
}

describe('a YAML syntax error', () => {
  // js-yaml gives up on the line after an unclosed quote, with "deficient indentation".
  const unclosed = [
    server('first', '  type: stdio\n  command: mcp-kubernetes\n'),
    server('vendor-tools', '  type: streamable-http\n  url: "https://tools.vendor.example.com/mcp\n  headers:\n    X-Tenant: acme\n'),
    server('third', '  type: stdio\n  command: mcp-kubernetes\n'),
  ].join('---\n');

  it('is reported on the line where an unclosed quote opens, with that reason, in the document it breaks', () => {
    const results = parseYamlDocuments(unclosed);
    expect(results.map((result) => (isYamlError(result) ? 'error' : result.index))).toEqual([0, 'error', 2]);
    const [error] = errorsOf(unclosed);
    expect(unclosed.split('\n')[error!.line - 1]).toBe('  url: "https://tools.vendor.example.com/mcp');
    expect(error).toMatchObject({ index: 1, line: 17, message: 'a double-quoted string is not closed: the closing " is missing' });
    expect(error?.readable).toMatchObject({ metadata: { name: 'vendor-tools', namespace: 'muster' } });
  });

  it.each([
    ['a single quote left open at the end of the text', server('a', "  type: stdio\n  command: 'mcp\n"), 8, "a single-quoted string is not closed: the closing ' is missing"],
    ['a list left open', server('a', '  type: stdio\n  args: [serve, --verbose\n  command: mcp\n'), 8, 'a [ or { is not closed: the closing ] or } is missing'],
    ['a key indented too far', server('a', '  type: stdio\n   command: mcp\n'), 8, 'a key is not indented like the keys beside it, or the line above it lacks its colon'],
    ['a tab', server('a', '\ttype: stdio\n'), 7, 'a tab is used for indentation: YAML indents with spaces only'],
    ['a key given twice', server('a', '  type: stdio\n  type: sse\n'), 8, 'the same key appears twice in one map (kubectl refuses that too): keep one'],
  ])('names the line and the cause in plain words: %s', (_, text, line, message) => {
    expect(errorsOf(text)).toEqual([expect.objectContaining({ index: 0, line, message })]);
  });

  it('reads no name when the problem comes before it', () => {
    const [error] = errorsOf('apiVersion: muster.giantswarm.io/v1alpha1\nkind: MCPServer\nmetadata:\n  name: "open\nspec: {}\n');
    expect(error).toMatchObject({ index: 0, line: 4 });
    expect((error?.readable as { metadata?: unknown } | undefined)?.metadata ?? null).toBeNull();
  });

  it('passes on a reason it has no plain words for as js-yaml gives it', () => {
    expect(errorsOf('a: !<tag\n')).toEqual([expect.objectContaining({ line: 1, message: 'unexpected end of the stream within a verbatim tag' })]);
  });
});
