/**
 * Field paths in the Kubernetes notation that kubectl, Flux and Argo CD users already read:
 * `spec.auth.authorizationServer.issuer`, `spec.args[0]`, `spec.headers[Authorization]`.
 * A map key is kept apart from a field name so that it is printed in brackets and can be
 * looked up again in a YAML document.
 */
export interface MapKey {
  readonly key: string;
}
export type PathSegment = string | number | MapKey;
export type FieldPath = readonly PathSegment[];

export function mapKey(key: string): MapKey {
  return { key };
}

export function formatPath(path: FieldPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'string') text += text === '' ? segment : `.${segment}`;
    else text += `[${segment.key}]`;
  }
  return text;
}

/** The plain keys of a path, as a YAML or JSON document indexes them. */
export function pathKeys(path: FieldPath): (string | number)[] {
  return path.map((segment) => (typeof segment === 'object' ? segment.key : segment));
}

/** The RFC 6901 JSON Pointer of a path, as a JSON Patch addresses it: `/spec/headers/X-Api~1Key`. */
export function jsonPointer(path: FieldPath): string {
  return pathKeys(path)
    .map((key) => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`)
    .join('');
}
