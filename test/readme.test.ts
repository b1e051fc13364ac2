import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES } from '../src/engine/index.js';
import { repositoryFile } from './fixtures.js';

const readme = readFileSync(repositoryFile('README.md'), 'utf8');

describe('README', () => {
  it('documents every rule with the defaults the code has', () => {
    const catalogue = readme.slice(readme.indexOf('<!-- rule-catalogue:start'), readme.indexOf('<!-- rule-catalogue:end'));
    const rows = catalogue.split('\n').filter((line) => line.startsWith('| `'));
    expect(rows.map((row) => row.slice(3, row.indexOf('`', 3)))).toEqual(RULES.map((rule) => rule.id));
    for (const rule of RULES) {
      const cells = rows.find((row) => row.startsWith(`| \`${rule.id}\``))?.split(' | ');
      expect(cells?.[2], rule.id).toBe(rule.defaults.manifest);
      expect(cells?.[3], rule.id).toBe(rule.defaults.admission);
    }
  });

  it('tells a new user to run npm ci, npm start and npm test', () => {
    expect(readme).toContain('npm ci');
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });
});
