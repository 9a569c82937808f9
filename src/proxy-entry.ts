/**
 * What the package root exports of the proxy, without loading the proxy until it is
 * started. The proxy's modules bring prom-client and undici's whole index; a script that
 * only scatters prompts would carry them (~5 MB of live heap, several times that in peak
 * RSS: bench/README.md, "Client"). `startProxy` loads src/proxy/ on its first call; the
 * constants come from src/proxy/proxy-constants.ts, which imports nothing.
 */
import type { startProxy as proxyServerStart } from './proxy/proxy-server.js';

export {
  AGENT_INDEX_HEADER,
  MAX_POOLED_ATTEMPTS,
  MAX_REPLAYABLE_BODY_BYTES,
  METRICS_PREFIX,
} from './proxy/proxy-constants.js';

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
