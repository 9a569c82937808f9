/**
 * Scatter-gather of embeddings: texts spread round-robin over an embedding pool.
 */

import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { runWindowed } from '../internal/windowed-stream.js';
import type { EmbeddingCallOptions, EmbeddingResponse, EmbeddingSwarmPool } from '../pool/types.js';
import { assertNonEmptyPool, assertStringArray, resolvePatternOptions } from './pattern-options.js';
import { NOT_SENT_ABORTED, UNSENT_GLOBAL_INDEX } from './unsent-response.js';

/** Options of `scatterGatherEmbeddings`. */
export interface ScatterGatherEmbeddingsOptions extends EmbeddingCallOptions {
  /**
   * Maximum calls in flight; a positive integer.
   * @default the pool's `concurrency`
   */
  window?: number;
}

/**
 * Embed `texts[i]` with agent `i % pool.size`; embeddings in input order (failures as values,
 * `success: false`). At most `options.window` calls are in flight. When `options.signal`
 * aborts, no further text is sent and each unsent text is reported as a failed response with
 * `failureKind: 'aborted'` and `globalIndex: -1`.
 *
 * @throws InvalidOptionError if `texts` is not an array of strings, the options are invalid, or
 *   there are texts and the pool has no agents.
 * @example
 * const embeddings = await scatterGatherEmbeddings(embeddingPool, answers.map((r) => r.text));
 */
export async function scatterGatherEmbeddings(
  pool: EmbeddingSwarmPool,
  texts: readonly string[],
  options?: ScatterGatherEmbeddingsOptions,
): Promise<EmbeddingResponse[]> {
  const name = 'scatterGatherEmbeddings';
  if (pool === null || typeof pool !== 'object' || typeof pool.embedOne !== 'function') {
    throw new InvalidOptionError(
      `${name}: pool must be an EmbeddingPool, got ${describeValue(pool)}`,
    );
  }
  assertStringArray(texts, 'texts', name);
  const resolved = resolvePatternOptions(pool, options, name);
  if (texts.length === 0) return [];
  assertNonEmptyPool(pool, name);
  const results: (EmbeddingResponse | undefined)[] = [];
  const stream = runWindowed<string, EmbeddingResponse>(texts, {
    window: resolved.window,
    signal: resolved.signal,
    launch: (text, index, signal) =>
      pool.embedOne(index % pool.size, text, { ...resolved.callOptions, signal }),
  });
  for await (const { index, result } of stream) results[index] = result;
  return Array.from(
    { length: texts.length },
    (_, index): EmbeddingResponse =>
      results[index] ?? {
        success: false,
        error: NOT_SENT_ABORTED,
        failureKind: 'aborted',
        agentIndex: index % pool.size,
        globalIndex: UNSENT_GLOBAL_INDEX,
      },
  );
}
