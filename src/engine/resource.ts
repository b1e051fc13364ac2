import { isPlainObject } from './schema.js';

/** The resource this project guards, as the Kubernetes API names it: one place for every face. */
export const MCPSERVER_RESOURCE = {
  group: 'muster.giantswarm.io',
  version: 'v1alpha1',
  kind: 'MCPServer',
  plural: 'mcpservers',
} as const;

/** What names a Kubernetes object: each field is undefined unless the object has it as a string. */
export interface ObjectMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** The metadata that names any object (an MCPServer, a Secret, a list item), read without trusting its shape. */
export function objectMetadata(object: unknown): ObjectMetadata {
  const metadata = isPlainObject(object) && isPlainObject(object.metadata) ? object.metadata : {};
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return { name: text(metadata.name), namespace: text(metadata.namespace), uid: text(metadata.uid), resourceVersion: text(metadata.resourceVersion) };
}

/**
 * What the engine reads of a stored MCPServer: its identity and its spec. A watch keeps thousands
 * of them, so everything else is dropped as they arrive, as client-go's informer transforms do:
 * managedFields, annotations (kubectl's last-applied-configuration alone repeats the whole object),
 * labels and status, none of which a rule looks at.
 */
export function judgedFields(object: unknown): unknown {
  if (!isPlainObject(object)) return object;
  const { name, namespace, uid, resourceVersion } = objectMetadata(object);
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name, namespace, uid, resourceVersion },
    ...(object.spec === undefined ? {} : { spec: object.spec }),
  };
}
