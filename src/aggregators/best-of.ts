import type { AgentResponse } from '../pool/types.js';
import type { AggregatorOptions } from './aggregator-options.js';
import { type ResponseScore, rankResponses } from './rank-responses.js';

/** `error` of the failed response {@link bestOf} returns when there is nothing to choose from. */
export const NO_RESPONSES_ERROR = 'No responses to select from';

/**
 * The response with the highest `score`; on a tie the first one in input order. Failed
 * responses are skipped unless `includeFailures` is set. With no response to consider it returns
 * a failed response (`success: false`, `text: ''`, `error: 'No responses to select from'`,
 * `agentIndex` and `globalIndex` -1), as the Python original's `best_of`. Same ranking as
 * `topK(responses, 1, score)[0]`.
 *
 * @throws {InvalidOptionError} when `score` is not a function or returns a non-number.
 * @example bestOf(responses, (response) => response.text.length).text
 */
export function bestOf(
  responses: readonly AgentResponse[],
  score: ResponseScore,
  options: AggregatorOptions = {},
): AgentResponse {
  return (
    rankResponses('bestOf', responses, score, options)[0] ?? {
      success: false,
      text: '',
      error: NO_RESPONSES_ERROR,
      agentIndex: -1,
      globalIndex: -1,
    }
  );
}
