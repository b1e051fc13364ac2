// What the benchmark commands share: their options, read with one-line errors, and the build
// they measure, checked before anything imports it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

/** Stops with one line (exit 1) when dist/ is missing; import the build only after this. */
export function requireBuild(script) {
  if (!existsSync(`${DIST}engine/index.js`) || !existsSync(`${DIST}cli/main.js`)) {
    console.error(`${script}: dist/ is missing: run npm run build first`);
    process.exit(1);
  }
}

/**
 * node:util's parseArgs; an unknown option or a missing value stops with one line (exit 2).
 * @returns {Record<string, any>}
 */
export function readOptions(script, options, usage) {
  try {
    return parseArgs({ options }).values;
  } catch (error) {
    usageError(script, `${error.message}; usage: ${usage}`);
  }
}

/** A number above 0 (a whole one unless `fractions`), or one line and exit 2. */
export function positiveNumber(script, flag, text, { fractions = false } = {}) {
  const value = Number(text);
  if (!(value > 0) || (!fractions && !Number.isInteger(value))) {
    usageError(script, `${flag} takes ${fractions ? 'a number' : 'a whole number'} above 0, not ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * One line on standard error and exit 2.
 * @returns {never}
 */
export function usageError(script, message) {
  console.error(`${script}: ${message}`);
  process.exit(2);
}
