/**
 * The batched path of `scatterGather` (and so of `mapGather`): on a pool in batch mode
 * (`new VLLMPool({ batch: true })`) each agent's share of the prompts goes out as
 * `/v1/completions` prompt lists through `pool.postBatch`, as the Python original's
 * `scatter_gather` does with `use_batch=True`. Kept apart from the per-prompt path so the
 * two evolve separately. `dispatch: 'least-loaded'` sends each planned batch to the agent
 * with the fewest calls in flight (`pool.postBatchLeastLoaded`: open breakers skipped,
 * failover); `hedgeAfterMs` is refused (a batch's answer starts only once it is all
 * generated: every batch would be hedged).
 */

import { InvalidOptionError } from '../errors.js';
import { planBatches } from '../internal/plan-batches.js';
import { runWindowed } from '../internal/windowed-stream.js';
import { assertNoBatchHedge } from '../pool/call-options.js';
import type { AgentResponse, CallOptions, SwarmPool } from '../pool/types.js';
import type { ResolvedPatternOptions } from './pattern-options.js';
import { NOT_SENT_ABORTED, unsentResponse } from './unsent-response.js';

/** A pool whose scatters go out in batches. */
export interface BatchingPool extends SwarmPool {
  readonly batch: true;
  postBatch(
    agentIndex: number,
    prompts: readonly string[],
    options?: CallOptions,
  ): Promise<AgentResponse[]>;
}

/** `pool` when its scatters should be batched, else `undefined` (one call per prompt). */
export function batchingPool(pool: SwarmPool): BatchingPool | undefined {
  return pool.batch === true && typeof pool.postBatch === 'function'
    ? (pool as BatchingPool)
    : undefined;
}

function batchSizeOf(pool: SwarmPool): number {
  const size = pool.batchSize;
  return typeof size === 'number' && Number.isInteger(size) && size >= 1
    ? size
    : Number.MAX_SAFE_INTEGER;
}

/**
 * Check, before anything is sent, that the batched path can honour `options`: no
 * `hedgeAfterMs`, and `dispatch: 'least-loaded'` only on a pool with `postBatchLeastLoaded`.
 * @throws InvalidOptionError otherwise.
 */
export function assertBatchOptions(
  pool: BatchingPool,
  options: ResolvedPatternOptions,
  functionName: string,
): void {
  assertNoBatchHedge(options.callOptions.hedgeAfterMs, functionName);
  if (options.dispatch === 'least-loaded' && typeof pool.postBatchLeastLoaded !== 'function') {
    throw new InvalidOptionError(
      `${functionName}: dispatch 'least-loaded' in batch mode needs a pool with postBatchLeastLoaded (VLLMPool or a sub-pool)`,
    );
  }
}

/**
 * Prompt i belongs to agent i % size; each agent's share is sent as batches of at most
 * `pool.batchSize` prompts, at most `options.window` batch requests in flight. With
 * `dispatch: 'least-loaded'` the same batches each go to the least-loaded agent when sent.
 * Answers in input order. After the signal fires no further batch is sent and the prompts
 * of the batches never sent are failed responses (`aborted`, `globalIndex: -1`) as in the
 * per-prompt path. Call {@link assertBatchOptions} first.
 */
export async function scatterGatherBatched(
  pool: BatchingPool,
  prompts: readonly string[],
  options: ResolvedPatternOptions,
): Promise<AgentResponse[]> {
  const size = pool.size;
  const leastLoaded = options.dispatch === 'least-loaded';
  const batches = planBatches(prompts.length, size, batchSizeOf(pool));
  const results = new Array<AgentResponse | undefined>(prompts.length);
  const stream = runWindowed(batches, {
    window: options.window,
    signal: options.signal,
    launch: (batch, _index, signal) => {
      const batchPrompts = batch.promptIndices.map((promptIndex) => prompts[promptIndex]!);
      const callOptions = { ...options.callOptions, signal };
      return leastLoaded && pool.postBatchLeastLoaded !== undefined
        ? pool.postBatchLeastLoaded(batchPrompts, callOptions)
        : pool.postBatch(batch.agentIndex, batchPrompts, callOptions);
    },
  });
  for await (const { item, result } of stream) {
    item.promptIndices.forEach((promptIndex, position) => {
      results[promptIndex] =
        result[position] ??
        unsentResponse(
          leastLoaded ? (result[0]?.agentIndex ?? -1) : item.agentIndex,
          `the pool answered a batch of ${item.promptIndices.length} prompt(s) with ${result.length} response(s)`,
          'bad-response',
        );
    });
  }
  return Array.from(
    { length: prompts.length },
    (_, index) =>
      results[index] ?? unsentResponse(leastLoaded ? -1 : index % size, NOT_SENT_ABORTED),
  );
}
