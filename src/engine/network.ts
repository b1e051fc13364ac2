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

/** The host as URL parsing gives it, compared plainly: lower case, no IPv6 brackets, no final dot. */
function normalizedHost(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
}

/**
 * Hosts whose traffic never leaves the machine: `localhost` and `*.localhost` (RFC 6761), the
 * loopback range 127.0.0.0/8 and `::1`. Plain http to them crosses no network.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = normalizedHost(hostname);
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * Hosts whose traffic stays on the node or inside the cluster network: localhost, loopback
 * addresses, single-label service names (`mcp-kubernetes`), and `*.svc` / `*.svc.cluster.local`.
 * Everything else, private address ranges included, may cross networks we cannot see.
 */
export function isInClusterHost(hostname: string): boolean {
  if (isLoopbackHost(hostname)) return true;
  const host = normalizedHost(hostname);
  if (/^[\d.]+$/.test(host) || host.includes(':')) return false;
  return !host.includes('.') || host.endsWith('.svc') || host.endsWith('.svc.cluster.local');
}
