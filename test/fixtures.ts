import { readFileSync, readdirSync } from 'node:fs';
import { load } from 'js-yaml';

/** An MCPServer around a spec, as `kubectl apply` would send it. */
export function mcpServer(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'muster.giantswarm.io/v1alpha1',
    kind: 'MCPServer',
    metadata: { name: 'example', namespace: 'muster', ...metadata },
    spec,
  };
}

export const remote = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  mcpServer({ type: 'streamable-http', url: 'https://mcp.example.com/mcp', ...extra });

export const stdio = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  mcpServer({ type: 'stdio', command: 'mcp-local', ...extra });

export const repositoryFile = (path: string): URL => new URL(`../${path}`, import.meta.url);

export function readExample(path: string): Record<string, unknown> {
  return load(readFileSync(repositoryFile(`examples/${path}`), 'utf8')) as Record<string, unknown>;
}

export function exampleFiles(folder: string): string[] {
  return readdirSync(repositoryFile(`examples/${folder}`))
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

/** A review the API server really sent (test/recorded/reviews/), with the headers it came with. */
export interface RecordedReview {
  readonly file: string;
  readonly headers: Record<string, string>;
  readonly review: { apiVersion: string; request: { uid: string; operation: string; object: unknown; oldObject: unknown; namespace?: string; subResource?: string; dryRun?: boolean } };
}

export function recordedReviews(): RecordedReview[] {
  return readdirSync(repositoryFile('test/recorded/reviews'))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(repositoryFile(`test/recorded/reviews/${file}`), 'utf8')) as Omit<RecordedReview, 'file'>) }));
}

export function recordedReview(prefix: string): RecordedReview {
  const review = recordedReviews().find((candidate) => candidate.file.startsWith(prefix));
  if (!review) throw new Error(`no recorded review ${prefix}`);
  return review;
}
