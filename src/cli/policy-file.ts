import { readFile } from 'node:fs/promises';
import { parsePolicy, type Policy } from '../engine/index.js';
import { UsageError } from './io.js';

/** Reads and parses a policy file; any problem becomes a one-line (per problem) usage error. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read policy file ${file}: ${(error as Error).message}`);
  }
  try {
    return parsePolicy(text, file);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
