// Generated from schemas/mcpserver.v1alpha1.json by `npm run generate`. Do not edit.

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
 * A Muster MCPServer (muster.giantswarm.io/v1alpha1), as the CRD's openAPIV3Schema describes it, with every object closed so that unknown fields are findings. The CRD's CEL rules (x-kubernetes-validations) are kept, and evaluated as the API server does (src/engine/cel).
 */
export interface MCPServer {
  apiVersion: 'muster.giantswarm.io/v1alpha1';
  kind: 'MCPServer';
  metadata: ObjectMeta;
  spec: MCPServerSpec;
  status?: {};
}
/**
 * MCPServerSpec defines the desired state of MCPServer
 */
export interface MCPServerSpec {
  /**
   * Args specifies the command line arguments for stdio type servers.
   * This field is only available when Type is "stdio".
   */
  args?: string[];
  auth?: Auth;
  /**
   * AutoStart determines whether this MCP server should be automatically started
   * when the muster system initializes or when dependencies become available.
   */
  autoStart?: boolean;
  /**
   * Command specifies the executable path for stdio type servers.
   * This field is required when Type is "stdio".
   */
  command?: string;
  /**
   * Description provides a human-readable description of this MCP server's purpose.
   */
  description?: string;
  /**
   * Env contains environment variables to set for the MCP server.
   * For stdio servers, these are passed to the process when it is started.
   * For remote servers, these can be used for authentication or configuration.
   */
  env?: {
    [k: string]: string;
  };
  family?: Family;
  /**
   * Headers contains HTTP headers to send with requests to remote MCP servers.
   * This field is only relevant when Type is "streamable-http" or "sse".
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Timeout specifies the connection timeout for remote operations (in seconds)
   */
  timeout?: number;
  /**
   * ToolPrefix is an optional prefix that will be prepended to all tool names
   * provided by this MCP server. This helps avoid naming conflicts when multiple
   * servers provide tools with similar names.
   */
  toolPrefix?: string;
  /**
   * Type specifies how this MCP server should be executed.
   * Supported values: "stdio" for local processes, "streamable-http" for HTTP-based servers, "sse" for Server-Sent Events
   */
  type: 'stdio' | 'streamable-http' | 'sse';
  /**
   * URL is the endpoint where the remote MCP server can be reached
   * This field is required when Type is "streamable-http" or "sse".
   * Examples: http://mcp-server:8080/mcp, https://api.example.com/mcp
   */
  url?: string;
}
/**
 * Auth configures authentication behavior for this MCP server.
 * This is only relevant for remote servers (streamable-http or sse).
 */
export interface Auth {
  authorizationServer?: AuthorizationServer;
  /**
   * ForwardToken enables ID token forwarding for SSO.
   * When true, muster forwards the session's upstream dex ID token (or, for
   * sessions established by a trusted-issuer bearer, that IdP-issued bearer)
   * to this server byte-identical, instead of triggering a separate OAuth
   * flow. Every forwarded token is issued by the IdP (dex); muster is not
   * an identity provider, never signs tokens, and no backend is ever
   * configured to trust a muster JWKS. The downstream server must trust the
   * IdP's issuer/JWKS (e.g. muster's client ID in its TrustedAudiences for
   * forwarded dex ID tokens).
   *
   * The forwarded token is not audience-scoped to this server: the same
   * token is accepted by every forwardToken backend, so all forwardToken
   * backends must be equally trusted. A token's nested act claim (minted
   * by the IdP, e.g. via exchange at dex) carries the delegation chain for
   * backend authorization decisions.
   */
  forwardToken?: boolean;
  /**
   * RequiredAudiences specifies additional audience(s) that the forwarded ID token
   * should contain. When ForwardToken is true, muster will request these audiences
   * from the upstream IdP (e.g., Dex) using cross-client scopes.
   *
   * This is used when the downstream server requires tokens with specific audiences,
   * for example when forwarding tokens to Kubernetes for OIDC authentication:
   *   requiredAudiences:
   *     - "dex-k8s-authenticator"
   *
   * At user authentication, muster collects all requiredAudiences from MCPServers
   * with forwardToken: true and requests them all from the IdP.
   */
  requiredAudiences?: string[];
  tokenExchange?: TokenExchange;
  /**
   * Type specifies the authentication type.
   * Supported values:
   *   - "oauth": OAuth 2.0/OIDC authentication
   *   - "none": No authentication
   */
  type?: 'oauth' | 'none';
}
/**
 * AuthorizationServer is an opt-out for backends that don't publish RFC 9728
 * Protected Resource Metadata. When set, muster's per-server OAuth login flow
 * (core_auth_login) skips PRM probing and uses these values directly. muster
 * logs each override use at INFO so non-compliance is observable.
 *
 * This override does NOT bypass mcp-go's connect-time PRM probe; backends
 * without RFC 9728 metadata still reconcile to "Auth Required" on first
 * connect, then transition to "Connected" after `muster auth login`.
 *
 * Setting AuthorizationServer does NOT change the RFC 8707 `resource`
 * parameter — that remains driven by the MCP server URL.
 *
 * AuthorizationServer is mutually exclusive with ForwardToken: true and
 * TokenExchange.Enabled: true. The CRD admission rules above reject any
 * CR that combines them. Only valid when Type is "oauth".
 *
 * Use case: Atlassian Remote MCP and similar backends that publish RFC 8414
 * metadata at their resource origin instead of via RFC 9728.
 */
export interface AuthorizationServer {
  /**
   * Issuer is the OAuth 2.0 / OIDC issuer URL.
   * muster fetches AS metadata via the existing OAuth client, which performs
   * RFC 8414 / OIDC discovery against this issuer.
   */
  issuer: string;
  /**
   * Scopes is the OAuth scope parameter value (RFC 6749 §3.3 wire format:
   * space-separated scope tokens). Matches existing TokenExchangeConfig.Scopes.
   */
  scopes?: string;
}
/**
 * TokenExchange enables SSO via RFC 8693 Token Exchange for cross-cluster SSO.
 * When configured, muster exchanges its local token for a token valid on the
 * remote cluster's Identity Provider (e.g., Dex).
 *
 * Use TokenExchange when:
 *   - The remote cluster has its own Dex instance
 *   - The remote Dex is configured with an OIDC connector for muster's Dex
 *   - You need a token issued by the remote cluster's IdP (not just forwarded)
 *
 * Token exchange takes precedence over ForwardToken if both are configured.
 */
export interface TokenExchange {
  clientCredentialsSecretRef?: ClientCredentialsSecretRef;
  /**
   * ConnectorID is the ID of the OIDC connector on the remote Dex that
   * trusts the local cluster's Dex.
   * Required when Enabled is true.
   * Example: "cluster-a-dex"
   */
  connectorId?: string;
  /**
   * DexTokenEndpoint is the URL used to connect to the remote cluster's Dex token endpoint.
   * This may differ from the issuer URL when access goes through a proxy.
   * Required when Enabled is true.
   * Example: https://dex.cluster-b.example.com/token (direct)
   * Example: https://dex-cluster.proxy.example.com/token (via proxy)
   */
  dexTokenEndpoint?: string;
  /**
   * Enabled determines whether token exchange should be attempted.
   */
  enabled?: boolean;
  /**
   * ExpectedIssuer is the expected issuer URL in the exchanged token's "iss" claim.
   * This should match the remote Dex's configured issuer URL.
   * When access goes through a proxy, this differs from DexTokenEndpoint.
   * If not specified, the issuer is derived from DexTokenEndpoint (backward compatible).
   * Example: https://dex.cluster-b.example.com
   */
  expectedIssuer?: string;
  /**
   * Scopes are the scopes to request for the exchanged token.
   */
  scopes?: string;
}
/**
 * ClientCredentialsSecretRef references a Kubernetes Secret containing
 * client credentials for authenticating with the remote Dex's token endpoint.
 * This is required when the remote Dex requires client authentication for
 * token exchange (RFC 8693).
 *
 * The secret should contain:
 *   - client-id: The OAuth client ID registered on the remote Dex
 *   - client-secret: The OAuth client secret for authentication
 *
 * Example secret:
 *
 * 	apiVersion: v1
 * 	kind: Secret
 * 	metadata:
 * 	  name: grizzly-token-exchange-credentials
 * 	  namespace: muster
 * 	type: Opaque
 * 	stringData:
 * 	  client-id: muster-token-exchange
 * 	  client-secret: <secret-value>
 */
export interface ClientCredentialsSecretRef {
  /**
   * ClientIDKey is the key in the secret data that contains the client ID.
   * Defaults to "client-id" if not specified.
   */
  clientIdKey?: string;
  /**
   * ClientSecretKey is the key in the secret data that contains the client secret.
   * Defaults to "client-secret" if not specified.
   */
  clientSecretKey?: string;
  /**
   * Name is the name of the Kubernetes Secret.
   * Required.
   */
  name: string;
  /**
   * Namespace is the Kubernetes namespace where the secret is located.
   * If not specified, defaults to the MCPServer's namespace.
   */
  namespace?: string;
}
/**
 * Family declares that this MCP server is an instance of a family of
 * equivalent servers (for example, multiple kubernetes MCP servers pointed
 * at different clusters). When set, the aggregator exposes tools from all
 * servers in the same family under a single name
 * ({musterPrefix}_{family.name}_{toolName}) with a required parameter
 * (named by family.instanceArg) that selects which instance handles the
 * call. The parameter is always required even for single-instance families
 * so skills written against the family name remain stable as instances are
 * added or removed. When unset, the legacy per-server prefixing applies
 * ({musterPrefix}_{toolPrefix-or-name}_{toolName}).
 */
export interface Family {
  /**
   * InstanceArg names the required parameter callers use to select which
   * family member handles the tool call (for example "management_cluster",
   * "country", "model"). All servers declaring the same family.name must
   * agree on InstanceArg; if they diverge, the aggregator falls back to
   * per-server prefixing for the entire family and logs a warning.
   */
  instanceArg: string;
  /**
   * Name is the family identifier. Servers sharing the same Name expose
   * their tools as {musterPrefix}_{Name}_{toolName}.
   */
  name: string;
}
