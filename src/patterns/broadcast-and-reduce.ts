/**
 * Broadcast-and-reduce: every agent answers, then one agent reduces the answers.
 */
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import { runAggregationStep } from './aggregation-step.js';
import { broadcast } from './broadcast.js';
import {
  assertAgentIndex,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';

/** Options of `broadcastAndReduce`. */
export interface BroadcastAndReduceOptions extends PatternOptions {
  /**
   * The agent (pool numbering) that reduces the answers.
   * @default 0
   */
  reducerAgentIndex?: number;
}

/** Default of `BroadcastAndReduceOptions.reducerAgentIndex`. */
export const DEFAULT_REDUCER_AGENT_INDEX = 0;

/** What `broadcastAndReduce` returns. */
/**
 * The reducer's answer itself (as in the Python original, whose `broadcast_and_reduce`
 * returns the reducer's response: `result.text`, `result.success`), with the
 * broadcast's answers alongside.
 */
export interface BroadcastAndReduceResult extends AgentResponse {
  /** Every agent's answer to the broadcast prompt, in agent order (failures as values). */
  responses: AgentResponse[];
  /**
   * The reducer's answer. A failed response if the reducer failed, if no broadcast answer
   * succeeded (the reducer is then not called), or if the signal aborted before it was called.
   */
  reduced: AgentResponse;
}

/**
 * Broadcast `prompt` to every agent, then send `reducePrompt` to the reducer agent with
 * `{responses}` replaced by the successful answers joined by `\n---\n` (in agent order). The
 * reducer's `maxTokens` is the pool's aggregation budget (`maxTokensAggregation`) when it has one.
 *
 * Deviation from the Python original, which returned only the reduced response: the broadcast
 * answers are returned too, so failures among them are visible.
 *
 * @throws InvalidOptionError if the pool is empty, `reducerAgentIndex` is not in `[0, size)`, or
 *   an argument has the wrong type.
 * @example
 * const { reduced } = await broadcastAndReduce(pool, 'Propose a hypothesis.',
 *   'Merge these hypotheses into one:\n{responses}');
 */
export async function broadcastAndReduce(
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: BroadcastAndReduceOptions = {},
): Promise<BroadcastAndReduceResult> {
  const name = 'broadcastAndReduce';
  assertSwarmPool(pool, name);
  assertString(prompt, 'prompt', name);
  assertString(reducePrompt, 'reducePrompt', name);
  const { reducerAgentIndex = DEFAULT_REDUCER_AGENT_INDEX, ...patternOptions } = options;
  const resolved = resolvePatternOptions(pool, patternOptions, name);
  assertAgentIndex(reducerAgentIndex, pool.size, 'reducerAgentIndex', name);

  const responses = await broadcast(pool, prompt, patternOptions);
  const reduced = await runAggregationStep(
    pool,
    reducerAgentIndex,
    'the reducer',
    reducePrompt,
    responses,
    resolved,
  );
  return { ...reduced, responses, reduced };
}
