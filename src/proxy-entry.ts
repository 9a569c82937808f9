/**
 * What the package root exports of the proxy, without loading the proxy until it is
 * started. The proxy's modules bring prom-client and undici's whole index; a script that
 * only scatters prompts would carry them (~5 MB of live heap, several times that in peak
 * RSS: bench/README.md, "Client"). `startProxy` loads src/proxy/ on its first call; the
 * constants are the proxy's own values, repeated here so that reading them loads nothing
 * (test/package/lazy-root.test.ts checks that they are equal to the proxy's).
 */
import type { startProxy as proxyServerStart } from './proxy/proxy-server.js';

/** Most agents a pooled request is sent to when they cannot be reached. */
export const MAX_POOLED_ATTEMPTS = 3;

/** Response header naming the agent (hostfile index) that answered a pooled request. */
export const AGENT_INDEX_HEADER = 'x-agent-index';

/** Largest request body buffered so that the request can go to another agent, in bytes. */
export const MAX_REPLAYABLE_BODY_BYTES = 1024 * 1024;

/** Prefix of every metric name. */
export const METRICS_PREFIX = 'aurora_swarm_proxy_';

/**
 * Start the proxy (src/proxy/proxy-server.ts, loaded on the first call): see docs/proxy.md.
 * Rejects as the proxy's own `startProxy` does.
 */
export async function startProxy(
  ...args: Parameters<typeof proxyServerStart>
): ReturnType<typeof proxyServerStart> {
  const { startProxy: start } = await import('./proxy/proxy-server.js');
  return start(...args);
}
