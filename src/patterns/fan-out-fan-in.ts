/**
 * Fan-out/fan-in: workers answer the same prompt, one collector agent combines their answers.
 */
import { InvalidOptionError } from '../errors.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import { runAggregationStep } from './aggregation-step.js';
import { broadcast } from './broadcast.js';
import {
  assertAgentIndex,
  assertNonEmptyPool,
  assertPositiveInteger,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';

/** Options of `fanOutFanIn`. */
export interface FanOutFanInOptions extends PatternOptions {
  /**
   * How many workers: agents `0 .. nWorkers - 1` of the pool. At most the pool size.
   * @default every agent of the pool
   */
  nWorkers?: number;
  /**
   * The agent (pool numbering) that collects the workers' answers.
   * @default 0
   */
  collectorAgentIndex?: number;
}

/** What `fanOutFanInDetails` returns: the collector's answer and the workers'. */
export interface FanOutFanInDetails {
  /**
   * The collector's answer, what `fanOutFanIn` resolves to; a failed response if it failed, if
   * no worker succeeded (the collector is then not called) or if the signal aborted first.
   */
  answer: AgentResponse;
  /** The workers' answers, in agent order (failures as values). */
  responses: AgentResponse[];
}

/**
 * Broadcast `prompt` to the first `nWorkers` agents, then send `collectPrompt` to the collector
 * (agent 0 by default) with `{responses}` replaced by the successful answers joined by `\n---\n`.
 * The collector uses the pool's aggregation token budget (`maxTokensAggregation`) when it has one.
 * Resolves to the collector's response, as the Python original's `fan_out_fan_in`; use
 * {@link fanOutFanInDetails} for the workers' answers too.
 *
 * @throws InvalidOptionError if the pool is empty, `nWorkers` is not an integer in
 *   `[1, pool.size]`, or `collectorAgentIndex` is out of range.
 * @example
 * const collected = await fanOutFanIn(pool, 'List risks of CRISPR.',
 *   'Deduplicate and rank these risks:\n{responses}', { nWorkers: 8 });
 */
export async function fanOutFanIn(
  pool: SwarmPool,
  prompt: string,
  collectPrompt: string,
  options: FanOutFanInOptions = {},
): Promise<AgentResponse> {
  return (await fanOutAndCollect('fanOutFanIn', pool, prompt, collectPrompt, options)).answer;
}

/**
 * {@link fanOutFanIn} with the workers' answers: `{ answer, responses }`, where `answer` is what
 * `fanOutFanIn` resolves to.
 *
 * @throws InvalidOptionError as {@link fanOutFanIn}.
 * @example
 * const { answer, responses } = await fanOutFanInDetails(pool, prompt, collectPrompt);
 */
export function fanOutFanInDetails(
  pool: SwarmPool,
  prompt: string,
  collectPrompt: string,
  options: FanOutFanInOptions = {},
): Promise<FanOutFanInDetails> {
  return fanOutAndCollect('fanOutFanInDetails', pool, prompt, collectPrompt, options);
}

async function fanOutAndCollect(
  name: string,
  pool: SwarmPool,
  prompt: string,
  collectPrompt: string,
  options: FanOutFanInOptions,
): Promise<FanOutFanInDetails> {
  assertSwarmPool(pool, name);
  assertString(prompt, 'prompt', name);
  assertString(collectPrompt, 'collectPrompt', name);
  const { nWorkers, collectorAgentIndex = 0, ...patternOptions } = options ?? {};
  const resolved = resolvePatternOptions(pool, patternOptions, name);
  assertNonEmptyPool(pool, name);
  if (nWorkers !== undefined) {
    assertPositiveInteger(nWorkers, 'nWorkers', name);
    if (nWorkers > pool.size) {
      throw new InvalidOptionError(
        `${name}: nWorkers must be at most the pool size (${pool.size}), got ${nWorkers}`,
      );
    }
  }
  assertAgentIndex(collectorAgentIndex, pool.size, 'collectorAgentIndex', name);

  const workers = nWorkers === undefined ? pool : pool.slice(0, nWorkers);
  const responses = await broadcast(workers, prompt, patternOptions);
  const answer = await runAggregationStep(
    pool,
    collectorAgentIndex,
    'the collector',
    collectPrompt,
    responses,
    resolved,
  );
  return { answer, responses };
}
