import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { repositoryFile } from '../fixtures.js';

/** An MCPServer of the corpus, with the upstream file it came from (its `# source:` comment). */
export interface CorpusObject {
  readonly source: string;
  readonly object: Record<string, unknown>;
}

export const UPSTREAM_CORPUS_FILE = 'test/engine/corpus/upstream-muster.yaml';

/** The MCPServers upstream Muster documents and tests (see the file's opening comment). */
export function upstreamCorpus(): CorpusObject[] {
  const text = readFileSync(repositoryFile(UPSTREAM_CORPUS_FILE), 'utf8');
  const sources = [...text.matchAll(/^# source: (.+)$/gm)].map((match) => match[1] ?? '');
  const objects = loadAll(text).filter((document): document is Record<string, unknown> => typeof document === 'object' && document !== null);
  return objects.map((object, index) => ({ source: sources[index] ?? '', object }));
}
