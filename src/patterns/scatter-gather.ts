/**
 * Scatter-gather: different prompts spread round-robin over the agents, answers in input order.
 */

import { runWindowedEach } from '../internal/windowed-stream.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  assertNonEmptyPool,
  assertStringArray,
  assertSwarmPool,
  resolvePatternOptions,
  type ScatterOptions,
} from './pattern-options.js';
import {
  assertBatchOptions,
  batchingPool,
  scatterGatherBatched,
} from './scatter-gather-batched.js';
import { scatterLaunch } from './scatter-gather-stream.js';
import { NOT_SENT_ABORTED, unsentResponse } from './unsent-response.js';

/** Options of `scatterGather`: see `ScatterOptions` (`dispatch`, `hedgeAfterMs`, `window`…). */
export type ScatterGatherOptions = ScatterOptions;

/**
 * Send `prompts[i]` to agent `i % pool.size` (or, with `dispatch: 'least-loaded'`, each to the
 * agent with the fewest calls in flight) and return the answers in input order (one per
 * prompt, failures as values).
 *
 * At most `options.window` calls (default: the pool's concurrency) are in flight; each finished
 * call immediately makes room for the next, so a slow agent never holds back the others.
 * When `options.signal` aborts, no further prompt is sent; the calls in flight get the signal,
 * and every prompt not sent is reported as a failed response with `failureKind: 'aborted'` and
 * `globalIndex: -1`. For inputs too large to hold in memory use `scatterGatherStream`.
 *
 * On a pool in batch mode (`new VLLMPool({ batch: true })`) each agent's share is sent as
 * `/v1/completions` prompt lists instead (split by the pool's `batchSize`), as the Python
 * original does: raw prompts without the chat template, far fewer requests; `window` then
 * bounds the batch requests in flight. `dispatch: 'least-loaded'` sends each batch to the
 * least-loaded agent (a dead agent's batches go to the others); `hedgeAfterMs` is refused
 * there (a batch's answer only starts once all of it is generated).
 *
 * @throws InvalidOptionError if `prompts` is not an array of strings, the options are invalid
 *   (also `hedgeAfterMs` on a pool in batch mode), or there are prompts and the pool has no
 *   agents.
 * @example
 * const responses = await scatterGather(pool, ['What is DNA?', 'What is RNA?']);
 */
export function scatterGather(
  pool: SwarmPool,
  prompts: readonly string[],
  options?: ScatterGatherOptions,
): Promise<AgentResponse[]> {
  return gather(pool, prompts, options, true, 'scatterGather');
}

/**
 * `scatterGather` whose errors name `functionName` (`mapGather`'s path).
 * @internal
 */
export function scatterGatherAs(
  functionName: string,
  pool: SwarmPool,
  prompts: readonly string[],
  options?: ScatterGatherOptions,
): Promise<AgentResponse[]> {
  return gather(pool, prompts, options, true, functionName);
}

/**
 * `scatterGather` with one call per prompt whatever the pool's batch mode: `broadcast`'s path
 * (the same prompt to every agent is one chat call each, as the Python `broadcast_prompt`).
 * @internal
 */
export function scatterGatherEach(
  pool: SwarmPool,
  prompts: readonly string[],
  options?: ScatterGatherOptions,
): Promise<AgentResponse[]> {
  return gather(pool, prompts, options, false, 'scatterGather');
}

async function gather(
  pool: SwarmPool,
  prompts: readonly string[],
  options: ScatterGatherOptions | undefined,
  batchIfPoolBatches: boolean,
  functionName: string,
): Promise<AgentResponse[]> {
  assertSwarmPool(pool, functionName);
  assertStringArray(prompts, 'prompts', functionName);
  const resolved = resolvePatternOptions(pool, options, functionName);
  // Batch mode (a VLLMPool created with batch: true): each agent's share as prompt lists.
  const batching = batchIfPoolBatches ? batchingPool(pool) : undefined;
  if (batching !== undefined) assertBatchOptions(batching, resolved, functionName);
  if (prompts.length === 0) return [];
  assertNonEmptyPool(pool, functionName);
  if (batching !== undefined) return scatterGatherBatched(batching, prompts, resolved);
  const results = new Array<AgentResponse | undefined>(prompts.length);
  // Results are only stored: delivered by callback, no async generator between the calls.
  await runWindowedEach(
    prompts,
    {
      window: resolved.window,
      signal: resolved.signal,
      ...scatterLaunch(pool, resolved, functionName),
    },
    (index, _prompt, response) => {
      results[index] = response;
    },
  );
  // A prompt never sent had no agent yet under least-loaded dispatch.
  const unsentAgent = (index: number) =>
    resolved.dispatch === 'least-loaded' ? -1 : index % pool.size;
  return Array.from(
    { length: prompts.length },
    (_, index) => results[index] ?? unsentResponse(unsentAgent(index), NOT_SENT_ABORTED),
  );
}
