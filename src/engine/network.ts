/** Where a URL points, as far as the rules care: plain http, and inside or outside the cluster. */

export function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

export function isPlainHttp(url: URL): boolean {
  return url.protocol === 'http:';
}

/**
 * Hosts whose traffic stays on the node or inside the cluster network: localhost, loopback
 * addresses, single-label service names (`mcp-kubernetes`), and `*.svc` / `*.svc.cluster.local`.
 * Everything else, private address ranges included, may cross networks we cannot see.
 */
export function isInClusterHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)) return true;
  if (/^[\d.]+$/.test(host) || host.includes(':')) return false;
  return !host.includes('.') || host.endsWith('.svc') || host.endsWith('.svc.cluster.local');
}
