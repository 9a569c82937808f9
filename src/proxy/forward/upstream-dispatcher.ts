/**
 * The proxy's one HTTP client to the agents: an undici `Agent` that keeps a pool of
 * keep-alive connections per agent, created lazily on first use (8,000 agents cost
 * nothing until they are called). Owned by the server, which destroys it on shutdown.
 */
import { Agent } from 'undici';

// Idle keep-alive sockets are reused for this long unless the agent says less.
const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 4_000;
const UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS = 600_000;
const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** Make the dispatcher every forwarded request goes through. */
export function createUpstreamDispatcher(): Agent {
  return new Agent({
    pipelining: 1,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeout: UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS,
    // The proxy runs its own timers with the semantics of --timeout / X-Timeout.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: UPSTREAM_CONNECT_TIMEOUT_MS,
  });
}
