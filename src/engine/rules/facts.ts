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

/** Whether spec.auth turns on a token for Muster to send on the user's behalf: a forwarded or an exchanged one. */
export function sendsUserToken(spec: SpecView): boolean {
  return forwardsToken(spec) || tokenExchangeEnabled(spec);
}

export function overridesAuthorizationServer(spec: SpecView): boolean {
  return spec.auth?.authorizationServer !== undefined;
}

export function setsRequiredAudiences(spec: SpecView): boolean {
  return spec.auth?.requiredAudiences !== undefined;
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

/** Whether Muster connects to the server per user (see perUserAuth). */
export function connectsPerUser(spec: SpecView): boolean {
  return perUserAuth(spec).length > 0;
}

type Entries = Readonly<Record<string, string | undefined>> | undefined;

function entries(map: Entries): [string, string][] {
  return Object.entries(map ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
}

function holdsEntries(map: Entries): boolean {
  for (const key in map) if (map[key] !== undefined) return true;
  return false;
}

export function headerEntries(spec: SpecView): [string, string][] {
  return entries(spec.headers);
}

export function envEntries(spec: SpecView): [string, string][] {
  return entries(spec.env);
}

/** Whether spec.headers holds a header: an empty map, or one of values of the wrong type, holds none. */
export function hasHeaders(spec: SpecView): boolean {
  return holdsEntries(spec.headers);
}

/** Whether spec.env holds a variable, as hasHeaders. */
export function hasEnv(spec: SpecView): boolean {
  return holdsEntries(spec.env);
}

/** Whether the server has an endpoint to be reached at (remoteUrl), without parsing it. */
export function hasRemoteUrl(spec: SpecView): boolean {
  return spec.type !== 'stdio' && Boolean(spec.url);
}

/** The endpoint a remote server is reached at; undefined for stdio servers and unparsable URLs. */
export function remoteUrl(spec: SpecView): URL | undefined {
  return spec.type === 'stdio' || !spec.url ? undefined : parseUrl(spec.url);
}
