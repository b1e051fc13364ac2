import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import { repositoryFile } from '../fixtures.js';

/**
 * The YAML a user copies from the documentation: the first ```yaml block under the heading
 * `heading` in README.md or a file of docs/, so that the end-to-end tests apply exactly what is
 * documented. A heading that is not found is an error that says where it was looked for.
 */
export function documentedYaml(heading: string): Record<string, any>[] {
  const files = ['README.md', ...(existsSync(repositoryFile('docs')) ? readdirSync(repositoryFile('docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`) : [])];
  for (const file of files) {
    const lines = readFileSync(repositoryFile(file), 'utf8').split('\n');
    const start = lines.findIndex((line) => new RegExp(`^#+ ${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`).test(line));
    if (start === -1) continue;
    const open = lines.findIndex((line, index) => index > start && line.trim() === '```yaml');
    const close = lines.findIndex((line, index) => index > open && line.trim() === '```');
    if (open === -1 || close === -1) throw new Error(`${file}: no yaml block under the heading "${heading}"`);
    return loadAll(lines.slice(open + 1, close).join('\n')) as Record<string, any>[];
  }
  throw new Error(`no heading "${heading}" in ${files.join(', ')}`);
}
