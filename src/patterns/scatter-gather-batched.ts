/**
 * The batched path of `scatterGather` (and so of `mapGather`): on a pool in batch mode
 * (`new VLLMPool({ batch: true })`) each agent's share of the prompts goes out as
 * `/v1/completions` prompt lists through `pool.postBatch`, as the Python original's
 * `scatter_gather` does with `use_batch=True`. Kept apart from the per-prompt path so the
 * two evolve separately: dispatch and hedging belong to single calls, not to batches.
 */
import { planBatches } from '../internal/plan-batches.js';
import { runWindowed } from '../internal/windowed-stream.js';
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
 * Prompt i belongs to agent i % size; each agent's share is sent as batches of at most
 * `pool.batchSize` prompts, at most `options.window` batch requests in flight. Answers in
 * input order. After the signal fires no further batch is sent and the prompts of the
 * batches never sent are failed responses (`aborted`, `globalIndex: -1`) as in the
 * per-prompt path.
 */
export async function scatterGatherBatched(
  pool: BatchingPool,
  prompts: readonly string[],
  options: ResolvedPatternOptions,
): Promise<AgentResponse[]> {
  const size = pool.size;
  const batches = planBatches(prompts.length, size, batchSizeOf(pool));
  const results = new Array<AgentResponse | undefined>(prompts.length);
  const stream = runWindowed(batches, {
    window: options.window,
    signal: options.signal,
    launch: (batch, _index, signal) =>
      pool.postBatch(
        batch.agentIndex,
        batch.promptIndices.map((promptIndex) => prompts[promptIndex]!),
        { ...options.callOptions, signal },
      ),
  });
  for await (const { item, result } of stream) {
    item.promptIndices.forEach((promptIndex, position) => {
      results[promptIndex] =
        result[position] ??
        unsentResponse(
          item.agentIndex,
          `the pool answered a batch of ${item.promptIndices.length} prompt(s) with ${result.length} response(s)`,
          'bad-response',
        );
    });
  }
  return Array.from(
    { length: prompts.length },
    (_, index) => results[index] ?? unsentResponse(index % size, NOT_SENT_ABORTED),
  );
}
