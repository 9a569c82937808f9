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

/** What `broadcastAndReduceDetails` returns: the reducer's answer and the broadcast. */
export interface BroadcastAndReduceDetails {
  /**
   * The reducer's answer, what `broadcastAndReduce` resolves to. A failed response if the
   * reducer failed, if no broadcast answer succeeded (the reducer is then not called), or if the
   * signal aborted before it was called.
   */
  answer: AgentResponse;
  /** Every agent's answer to the broadcast prompt, in agent order (failures as values). */
  responses: AgentResponse[];
}

/**
 * Broadcast `prompt` to every agent, then send `reducePrompt` to the reducer agent with
 * `{responses}` replaced by the successful answers joined by `\n---\n` (in agent order). The
 * reducer's `maxTokens` is the pool's aggregation budget (`maxTokensAggregation`) when it has one.
 * Resolves to the reducer's response, as the Python original's `broadcast_and_reduce`; use
 * {@link broadcastAndReduceDetails} for the broadcast's answers too.
 *
 * @throws InvalidOptionError if the pool is empty, `reducerAgentIndex` is not in `[0, size)`, or
 *   an argument has the wrong type.
 * @example
 * const reduced = await broadcastAndReduce(pool, 'Propose a hypothesis.',
 *   'Merge these hypotheses into one:\n{responses}');
 */
export async function broadcastAndReduce(
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: BroadcastAndReduceOptions = {},
): Promise<AgentResponse> {
  return (await reduceBroadcast('broadcastAndReduce', pool, prompt, reducePrompt, options)).answer;
}

/**
 * {@link broadcastAndReduce} with the broadcast's answers: `{ answer, responses }`, where
 * `answer` is what `broadcastAndReduce` resolves to.
 *
 * @throws InvalidOptionError as {@link broadcastAndReduce}.
 * @example
 * const { answer, responses } = await broadcastAndReduceDetails(pool, prompt, reducePrompt);
 */
export function broadcastAndReduceDetails(
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: BroadcastAndReduceOptions = {},
): Promise<BroadcastAndReduceDetails> {
  return reduceBroadcast('broadcastAndReduceDetails', pool, prompt, reducePrompt, options);
}

async function reduceBroadcast(
  name: string,
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: BroadcastAndReduceOptions,
): Promise<BroadcastAndReduceDetails> {
  assertSwarmPool(pool, name);
  assertString(prompt, 'prompt', name);
  assertString(reducePrompt, 'reducePrompt', name);
  const { reducerAgentIndex = DEFAULT_REDUCER_AGENT_INDEX, ...patternOptions } = options ?? {};
  const resolved = resolvePatternOptions(pool, patternOptions, name);
  assertAgentIndex(reducerAgentIndex, pool.size, 'reducerAgentIndex', name);

  const responses = await broadcast(pool, prompt, patternOptions);
  const answer = await runAggregationStep(
    pool,
    reducerAgentIndex,
    'the reducer',
    reducePrompt,
    responses,
    resolved,
  );
  return { answer, responses };
}
