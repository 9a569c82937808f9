/**
 * Broadcast: the same prompt to every agent of a pool, optionally stopping early.
 */
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  assertOptionalFunction,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';
import { scatterGatherEach } from './scatter-gather.js';
import { stoppableFanOut } from './stoppable-fan-out.js';

/** Options of `broadcast`: see `PatternOptions`, plus an early stop. */
export interface BroadcastOptions extends PatternOptions {
  /**
   * Called after each response with every response so far, in the order they arrived
   * (failures included). Returning `true` stops the broadcast: nothing more is sent and the
   * calls still running are aborted (their agents stop generating). Those calls, and the
   * ones never sent, are failed responses with `failureKind: 'aborted'`.
   * @default undefined (every agent is asked)
   */
  stopWhen?: (responsesSoFar: readonly AgentResponse[]) => boolean;
}

/**
 * Send `prompt` to every agent of `pool`; one response per agent, in agent order (failures as
 * values). Calls are scheduled in a sliding window of `options.window` (default: the pool's
 * concurrency). An empty pool gives `[]`. Always one chat call per agent, also on a pool in
 * batch mode (as the Python original's `broadcast_prompt`). With `stopWhen`, the broadcast
 * ends as soon as it returns true (see {@link BroadcastOptions.stopWhen}).
 *
 * @example
 * const responses = await broadcast(pool, 'Name one open problem in protein folding.');
 * @example
 * // Stop once three agents agree.
 * const votes = await broadcast(pool, 'Yes or no?', {
 *   stopWhen: (so) => so.filter((r) => r.success && /yes/i.test(r.text)).length >= 3,
 * });
 */
export async function broadcast(
  pool: SwarmPool,
  prompt: string,
  options?: BroadcastOptions,
): Promise<AgentResponse[]> {
  assertSwarmPool(pool, 'broadcast');
  assertString(prompt, 'prompt', 'broadcast');
  const { stopWhen, ...patternOptions } = options ?? {};
  assertOptionalFunction(stopWhen, 'stopWhen', 'broadcast');
  if (stopWhen === undefined) {
    return scatterGatherEach(pool, new Array<string>(pool.size).fill(prompt), patternOptions);
  }
  const resolved = resolvePatternOptions(pool, patternOptions, 'broadcast');
  if (pool.size === 0) return [];
  const soFar: AgentResponse[] = [];
  const { responses } = await stoppableFanOut(pool, prompt, pool.size, resolved, (response) => {
    soFar.push(response);
    return stopWhen(soFar) === true;
  });
  return responses;
}
