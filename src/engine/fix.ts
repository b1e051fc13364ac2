/** One RFC 6902 operation, of the kinds a fix needs. */
export type JsonPatchOperation =
  | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'move'; readonly from: string; readonly path: string };

/**
 * A change to the object that removes the finding, as an RFC 6902 JSON Patch against the whole
 * object. A property test applies every fix offered to the object that produced it: the finding
 * is gone, and nothing new is denied.
 */
export interface Fix {
  /** What the patch does, in a few words: never a secret value. */
  readonly description: string;
  readonly patch: readonly JsonPatchOperation[];
  /**
   * Mechanical and safe (removing a field Muster ignores, correcting a misspelt one): `validate
   * --fix` applies it. Otherwise it is only offered (SARIF, JSON), as one a person should confirm.
   */
  readonly safe: boolean;
}
