import type { JsonPatchOperation } from './fix.js';

/**
 * RFC 6902 for the operations a fix uses, as a JSON Patch consumer (a SARIF viewer, `kubectl patch
 * --type=json`) applies them, on a copy. Throws where the RFC says the patch fails: a path whose
 * parent is missing, a value to remove, replace or move that is not there. A key is defined, never
 * assigned, so that `__proto__` stays a plain key.
 */
export function applyJsonPatch(object: unknown, patch: readonly JsonPatchOperation[]): unknown {
  const document = structuredClone(object);
  for (const operation of patch) {
    if (operation.op === 'move') {
      const value = take(document, operation.from);
      put(document, operation.path, value, 'add');
    } else if (operation.op === 'remove') {
      take(document, operation.path);
    } else {
      put(document, operation.path, structuredClone(operation.value), operation.op);
    }
  }
  return document;
}

function keys(pointer: string): string[] {
  if (!pointer.startsWith('/')) throw new Error(`not a JSON pointer: ${pointer}`);
  return pointer.split('/').slice(1).map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: unknown, pointer: string): { parent: Record<string, unknown>; key: string } {
  const path = keys(pointer);
  let parent = document;
  for (const key of path.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null || !Object.hasOwn(parent, key)) throw new Error(`no ${key} on the way to ${pointer}`);
    parent = (parent as Record<string, unknown>)[key];
  }
  if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) throw new Error(`the parent of ${pointer} is no object`);
  return { parent: parent as Record<string, unknown>, key: path[path.length - 1] ?? '' };
}

function take(document: unknown, pointer: string): unknown {
  const { parent, key } = parentOf(document, pointer);
  if (!Object.hasOwn(parent, key)) throw new Error(`nothing at ${pointer}`);
  const value = parent[key];
  delete parent[key];
  return value;
}

function put(document: unknown, pointer: string, value: unknown, op: 'add' | 'replace'): void {
  const { parent, key } = parentOf(document, pointer);
  if (op === 'replace' && !Object.hasOwn(parent, key)) throw new Error(`nothing to replace at ${pointer}`);
  Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
}
