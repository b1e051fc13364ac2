// Generated from schemas/mcpserver.v1alpha1.json by `npm run generate:types`. Do not edit.

export type ObjectMeta = {
  [k: string]: unknown;
} & {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: {
    [k: string]: string;
  };
  annotations?: {
    [k: string]: string;
  };
};

/**
 * A Muster MCPServer (muster.giantswarm.io/v1alpha1). Carries every constraint of the upstream CRD's spec; the CRD's CEL rules are checked by the rules in src/engine/rules.
 */
export interface MCPServer {
  apiVersion: 'muster.giantswarm.io/v1alpha1';
  kind: 'MCPServer';
  metadata: ObjectMeta;
  spec: MCPServerSpec;
  status?: {};
}
export interface MCPServerSpec {
  /**
   * How the server runs: stdio for a local process, streamable-http or sse for a remote endpoint.
   */
  type: 'stdio' | 'streamable-http' | 'sse';
  /**
   * Executable for stdio servers; required when type is stdio.
   */
  command?: string;
  /**
   * Arguments for stdio servers only.
   */
  args?: string[];
  /**
   * Environment variables for the server.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * Endpoint of a remote server; required when type is streamable-http or sse.
   */
  url?: string;
  /**
   * HTTP headers sent to remote servers, verbatim.
   */
  headers?: {
    [k: string]: string;
  };
  autoStart?: boolean;
  description?: string;
  /**
   * Connection timeout in seconds.
   */
  timeout?: number;
  toolPrefix?: string;
  family?: Family;
  auth?: Auth;
}
export interface Family {
  name: string;
  instanceArg: string;
}
export interface Auth {
  type?: 'oauth' | 'none';
  forwardToken?: boolean;
  requiredAudiences?: string[];
  authorizationServer?: AuthorizationServer;
  tokenExchange?: TokenExchange;
}
export interface AuthorizationServer {
  issuer: string;
  scopes?: string;
}
export interface TokenExchange {
  enabled?: boolean;
  dexTokenEndpoint?: string;
  expectedIssuer?: string;
  connectorId?: string;
  scopes?: string;
  clientCredentialsSecretRef?: ClientCredentialsSecretRef;
}
export interface ClientCredentialsSecretRef {
  name: string;
  namespace?: string;
  clientIdKey?: string;
  clientSecretKey?: string;
}
