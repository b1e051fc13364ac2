import { Agent } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { RequestAuth, ResolvedRequest } from './request-auth.js';

/**
 * Requests authenticated as client-node authenticates them, from a KubeConfig with its current
 * context chosen: whatever the kubeconfig's user is (a token, a token file it re-reads, client
 * certificates, an exec plugin, an auth provider) and whatever proxy its cluster names.
 */
export function kubeConfigAuth(config: KubeConfig): RequestAuth {
  return {
    async resolve(): Promise<ResolvedRequest> {
      const options: RequestOptions = { headers: {} };
      await config.applyToHTTPSOptions(options);
      // applyToHTTPSOptions sets headers as an object (Authorization, Impersonate-User), never as a list.
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value);
      if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      const { ca, cert, key, rejectUnauthorized, servername } = options;
      const tls = {
        // client-node reads them as Buffers (bufferFromFileOrString).
        ...(ca ? { ca: ca as Buffer } : {}),
        ...(cert ? { cert: cert as Buffer } : {}),
        ...(key ? { key: key as Buffer } : {}),
        ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
        ...(servername ? { servername } : {}),
      };
      // For a proxy, the agent client-node made speaks to it.
      const proxyAgent = config.getCurrentCluster()?.proxyUrl && options.agent instanceof Agent ? options.agent : undefined;
      return { headers, tls, ...(proxyAgent ? { proxyAgent } : {}) };
    },
  };
}
