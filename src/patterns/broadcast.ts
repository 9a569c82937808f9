/**
 * Broadcast: the same prompt to every agent of a pool.
 */
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import { assertString, assertSwarmPool, type PatternOptions } from './pattern-options.js';
import { scatterGatherEach } from './scatter-gather.js';

/** Options of `broadcast`: see `PatternOptions`. */
export type BroadcastOptions = PatternOptions;

/**
 * Send `prompt` to every agent of `pool`; one response per agent, in agent order (failures as
 * values). Calls are scheduled in a sliding window of `options.window` (default: the pool's
 * concurrency). An empty pool gives `[]`. Always one chat call per agent, also on a pool in
 * batch mode (as the Python original's `broadcast_prompt`).
 *
 * @example
 * const responses = await broadcast(pool, 'Name one open problem in protein folding.');
 */
export async function broadcast(
  pool: SwarmPool,
  prompt: string,
  options?: BroadcastOptions,
): Promise<AgentResponse[]> {
  assertSwarmPool(pool, 'broadcast');
  assertString(prompt, 'prompt', 'broadcast');
  return scatterGatherEach(pool, new Array<string>(pool.size).fill(prompt), options);
}
