import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';
import type { AggregatorOptions } from './aggregator-options.js';
import { type ResponseScore, rankResponses } from './rank-responses.js';

/**
 * The `k` responses with the highest `score`, best first; equal scores keep
 * input order (stable). Fewer than `k` considered → all of them. Failed
 * responses are skipped unless `includeFailures` is set.
 *
 * @param k - how many to keep, a non-negative integer.
 * @throws {InvalidOptionError} when `k` is not a non-negative integer, `score` is
 *   not a function, or `score` returns a non-number.
 * @example topK(responses, 3, (response) => Number(response.text))
 */
export function topK(
  responses: readonly AgentResponse[],
  k: number,
  score: ResponseScore,
  options: AggregatorOptions = {},
): AgentResponse[] {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
    throw new InvalidOptionError(`topK: k must be a non-negative integer, got ${describeValue(k)}`);
  }
  return rankResponses('topK', responses, score, options).slice(0, k);
}
