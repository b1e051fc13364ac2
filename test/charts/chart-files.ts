/**
 * Reading the Helm chart without helm: the plain-YAML files as they are, the templates as text
 * (or, for the simple ones, as YAML once the template actions are taken out).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { load, loadAll } from 'js-yaml';
import { repositoryFile } from '../fixtures.js';

export const CHART = 'charts/mcpserver-webhook';

export const readText = (path: string): string => readFileSync(repositoryFile(path), 'utf8');
export const chartText = (path: string): string => readText(`${CHART}/${path}`);
export const templateText = (name: string): string => chartText(`templates/${name}`);
export const templateNames = (): string[] => readdirSync(repositoryFile(`${CHART}/templates`)).sort();

export type Tree = Record<string, unknown>;

export const isTree = (value: unknown): value is Tree => typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadValues(): Tree {
  return load(chartText('values.yaml')) as Tree;
}

/** Template text without its `{{/* ... *\/}}` comments (with or without the trimming dashes). */
export function withoutTemplateComments(text: string): string {
  return text.replace(/\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g, '');
}

/** Every `.Values.a.b` path a template refers to, comments left out. */
export function valuesReferences(text: string): string[] {
  const paths = [...withoutTemplateComments(text).matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)].map((match) => match[1]!.slice(1));
  return [...new Set(paths)].sort();
}

/** Whether a dotted path names a key that exists in the values (its value may be empty). */
export function hasPath(values: Tree, path: string): boolean {
  let node: unknown = values;
  for (const key of path.split('.')) {
    if (!isTree(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}

/** Dotted paths of the values that are not themselves non-empty maps. */
export function leafPaths(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const path = `${prefix}${key}`;
    return isTree(value) && Object.keys(value).length > 0 ? leafPaths(value, `${path}.`) : [path];
  });
}

/**
 * The YAML documents of a template whose actions only fill in values: lines that hold nothing
 * but an action are dropped, and actions inside a line become the word TEMPLATE. Good for
 * checking the fixed parts (rules, fields); not a rendering.
 */
export function templateDocuments(text: string): Tree[] {
  const yaml = withoutTemplateComments(text)
    .split('\n')
    .filter((line) => !/^\s*\{\{.*\}\}\s*$/.test(line))
    .map((line) => line.replace(/\{\{.*?\}\}/g, 'TEMPLATE'))
    .join('\n');
  return loadAll(yaml).filter(isTree);
}

/**
 * The keys of a YAML file that have no comment: neither a comment line right above them nor one
 * at the end of their line. Keys inside lists (example entries of a default) are not counted.
 */
export function uncommentedKeys(yaml: string): string[] {
  const missing: string[] = [];
  const lines = yaml.split('\n');
  const stack: { indent: number; key: string }[] = [];
  let listIndent: number | undefined;
  lines.forEach((line, index) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const indent = line.length - line.trimStart().length;
    if (listIndent !== undefined && indent > listIndent) return;
    listIndent = undefined;
    if (/^\s*- /.test(line)) {
      listIndent = indent;
      return;
    }
    const key = /^\s*([A-Za-z0-9_.\/-]+):/.exec(line)?.[1];
    if (key === undefined) return;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    stack.push({ indent, key });
    const above = lines[index - 1] ?? '';
    if (!/^\s*#/.test(above) && !/\s#\s/.test(line)) missing.push(stack.map((entry) => entry.key).join('.'));
  });
  return missing;
}
