/**
 * The proxy's constants that code outside its data path reads (the package root, option
 * parsing, the CLI's flags), in a module that imports nothing: the package root
 * re-exports them (src/proxy-entry.ts) without loading the proxy, and the proxy's own
 * modules read them from here, so there is one copy of each value.
 */

/** Most agents a pooled request is sent to when they cannot be reached. */
export const MAX_POOLED_ATTEMPTS = 3;

/** Response header naming the agent (hostfile index) that answered a pooled request. */
export const AGENT_INDEX_HEADER = 'x-agent-index';

/** Largest request body buffered so that the request can go to another agent, in bytes. */
export const MAX_REPLAYABLE_BODY_BYTES = 1024 * 1024;

/** Prefix of every metric name. */
export const METRICS_PREFIX = 'aurora_swarm_proxy_';

/** Idle connections kept per agent unless `--max-idle-per-agent` says otherwise. */
export const DEFAULT_MAX_IDLE_PER_AGENT = 64;
