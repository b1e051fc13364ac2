import { parseUrl } from '../network.js';
import type { SpecView } from '../spec-view.js';

/**
 * Facts several rules ask of a spec; kept here so each is decided in one place, as upstream
 * Muster decides it (giantswarm/muster, cited per fact).
 */

export function isRemote(spec: SpecView): boolean {
  return spec.type === 'streamable-http' || spec.type === 'sse';
}

export function tokenExchangeEnabled(spec: SpecView): boolean {
  return spec.auth?.tokenExchange?.enabled === true;
}

/**
 * Muster exchanges tokens only when exchange is enabled and both the endpoint and the connector
 * are set (`ShouldUseTokenExchange`, internal/aggregator/connection_helper.go).
 */
export function usesTokenExchange(spec: SpecView): boolean {
  const exchange = spec.auth?.tokenExchange;
  return tokenExchangeEnabled(spec) && Boolean(exchange?.dexTokenEndpoint) && Boolean(exchange?.connectorId);
}

export function forwardsToken(spec: SpecView): boolean {
  return spec.auth?.forwardToken === true;
}

/**
 * The settings of a remote server whose connections Muster makes per user, with the user's own
 * bearer token and nothing else: an OAuth login (`establishConnection`), a forwarded token
 * (`newTokenForwardingClient`) or an exchanged one (`EstablishConnectionWithTokenExchange`), all in
 * internal/aggregator/connection_helper.go, each built with NewStreamableHTTPClientWith... and
 * only the Authorization header. Empty for a server connected once for everyone.
 */
export function perUserAuth(spec: SpecView): string[] {
  if (!isRemote(spec)) return [];
  return [
    ...(spec.auth?.type === 'oauth' ? ['type: oauth'] : []),
    ...(forwardsToken(spec) ? ['forwardToken: true'] : []),
    ...(usesTokenExchange(spec) ? ['tokenExchange.enabled: true'] : []),
  ];
}

export function headerEntries(spec: SpecView): [string, string][] {
  return Object.entries(spec.headers ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
}

/** The endpoint a remote server is reached at; undefined for stdio servers and unparsable URLs. */
export function remoteUrl(spec: SpecView): URL | undefined {
  return spec.type === 'stdio' || !spec.url ? undefined : parseUrl(spec.url);
}
