import { parseUrl } from '../network.js';
import type { SpecView } from '../spec-view.js';

/** Facts several rules ask of a spec; kept here so each is decided in one place. */

export function isRemote(spec: SpecView): boolean {
  return spec.type === 'streamable-http' || spec.type === 'sse';
}

export function tokenExchangeEnabled(spec: SpecView): boolean {
  return spec.auth?.tokenExchange?.enabled === true;
}

export function forwardsToken(spec: SpecView): boolean {
  return spec.auth?.forwardToken === true;
}

export function headerEntries(spec: SpecView): [string, string][] {
  return Object.entries(spec.headers ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
}

/** The endpoint a remote server is reached at; undefined for stdio servers and unparsable URLs. */
export function remoteUrl(spec: SpecView): URL | undefined {
  return spec.type === 'stdio' || !spec.url ? undefined : parseUrl(spec.url);
}
