import type { AgentResponse } from '../pool/types.js';
import type { AggregatorOptions } from './aggregator-options.js';
import { type ResponseScore, rankResponses } from './rank-responses.js';

/**
 * The response with the highest `score`; on a tie the first one in input order.
 * Failed responses are skipped unless `includeFailures` is set. Returns
 * `undefined` when no response is considered. Same ranking as `topK(responses, 1, score)[0]`.
 *
 * @throws {InvalidOptionError} when `score` is not a function or returns a non-number.
 * @example bestOf(responses, (response) => response.text.length)
 */
export function bestOf(
  responses: readonly AgentResponse[],
  score: ResponseScore,
  options: AggregatorOptions = {},
): AgentResponse | undefined {
  return rankResponses('bestOf', responses, score, options)[0];
}
