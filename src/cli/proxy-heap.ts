/**
 * The heap setting of the proxy's own process (`aurora-swarm-proxy`, `aurora-swarm proxy`,
 * each `--workers` worker): V8's allocation-site pretenuring off.
 *
 * Why: V8 decides per allocation site, from how many of its objects survived recent
 * scavenges, to allocate that site's objects straight in the old generation. A proxy's
 * per-request objects (the request and response, their headers, the exchange, undici's
 * request) all die within the exchange, but in the first bursts after start-up — hundreds
 * of exchanges in flight during a scavenge — they survive, the sites are marked, and every
 * later exchange is allocated in the old generation: measured under wrk at concurrency 1,
 * ~3.5 MB of every ~9 MB promoted per scavenge and 5–11 ms scavenges (old-to-new pointers
 * to scan), against 0.5–0.7 ms and nothing promoted with pretenuring off; at concurrency 64
 * 1.1–1.5× the requests per second for 11–36 % less CPU per request in A/B runs on the
 * same core (bench/README.md, "Proxy"). V8 reads the flag at each pretenuring decision
 * (heap's pretenuring handler), so it applies when set after start-up.
 *
 * Only the CLI's proxy process sets it, never the library (`startProxy` in a user's script
 * keeps the script's settings), and not when the user gave a pretenuring flag of their own
 * (`node --allocation-site-pretenuring …/aurora-swarm-proxy.js` restores V8's default).
 */
import { setFlagsFromString } from 'node:v8';
import { nodeFlagGiven } from '../internal/node-flags.js';

/** The V8 flag the proxy's process sets. */
export const PROXY_PRETENURING_FLAG = '--no-allocation-site-pretenuring';

/** Whether the node command line or NODE_OPTIONS already says something about pretenuring. */
export function userSetPretenuring(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): boolean {
  return nodeFlagGiven(/allocation[-_]site[-_]pretenuring/, execArgv, nodeOptions);
}

/**
 * Turn pretenuring off for this process unless the user chose otherwise.
 * @returns whether the flag was set
 */
export function useProxyHeap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  if (userSetPretenuring(execArgv, nodeOptions)) return false;
  setFlagsFromString(PROXY_PRETENURING_FLAG);
  return true;
}
