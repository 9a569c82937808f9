/**
 * One agent as a pool addresses it: where requests go (direct or via the proxy),
 * the headers that route them, and how failures name it. Internal; built once per
 * agent by the root pool and shared, unchanged, by every sub-pool.
 */
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import type { ResolvedPoolOptions } from './pool-options.js';

/** @internal */
export interface PoolMember {
  readonly endpoint: AgentEndpoint;
  /** Index in the hostfile (the root pool's index). */
  readonly globalIndex: number;
  /** Origin the HTTP request is sent to: the agent's, or the proxy's. */
  readonly origin: string;
  /** Prefix of every request path: `''` direct, `{proxyPath}/agent/{globalIndex}` via the proxy. */
  readonly pathPrefix: string;
  /** How error messages name this agent, e.g. `agent 3 at compute-004:8000`. */
  readonly label: string;
  /** `host:port` (or `unix:/path`) of the proxy in proxy mode, else `undefined`. */
  readonly proxyAddress: string | undefined;
}

/** Build the members of a root pool. */
export function createPoolMembers(
  endpoints: readonly AgentEndpoint[],
  proxyUrl: string | undefined,
): PoolMember[] {
  if (proxyUrl === undefined) {
    return endpoints.map((endpoint, globalIndex) => ({
      endpoint,
      globalIndex,
      origin: endpoint.url,
      pathPrefix: '',
      label: `agent ${globalIndex} at ${endpoint.url.slice('http://'.length)}`,
      proxyAddress: undefined,
    }));
  }
  // A `unix:` proxy is reached over its socket (the transport's dispatcher) as localhost.
  const unix = proxyUrl.startsWith('unix:');
  const url = new URL(unix ? 'http://localhost' : proxyUrl);
  const proxyPath = url.pathname === '/' ? '' : url.pathname;
  const proxyName = unix ? proxyUrl : url.host;
  return endpoints.map((endpoint, globalIndex) => ({
    endpoint,
    globalIndex,
    origin: url.origin,
    pathPrefix: `${proxyPath}/agent/${globalIndex}`,
    label: `agent ${globalIndex} (${endpoint.url.slice('http://'.length)}) via proxy ${proxyName}`,
    proxyAddress: proxyName,
  }));
}

/**
 * The headers every request to `member` carries besides its own: the pool's `headers`
 * and, through the proxy, `X-Timeout` (seconds) and the proxy token. One rule for the
 * pool's calls and for raw access.
 */
export function routingHeaders(
  member: PoolMember,
  options: Pick<ResolvedPoolOptions, 'headers' | 'proxyToken'>,
  timeoutMs: number,
): Record<string, string> {
  const headers: Record<string, string> = { ...options.headers };
  if (member.proxyAddress !== undefined) {
    headers['x-timeout'] = String(timeoutMs / 1000);
    if (options.proxyToken !== undefined) {
      headers['proxy-authorization'] = `Bearer ${options.proxyToken}`;
    }
  }
  return headers;
}
