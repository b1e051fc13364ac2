/** The resource this project guards, as the Kubernetes API names it: one place for every face. */
export const MCPSERVER_RESOURCE = {
  group: 'muster.giantswarm.io',
  version: 'v1alpha1',
  kind: 'MCPServer',
  plural: 'mcpservers',
} as const;
