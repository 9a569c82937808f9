/** Scoring shared by {@link bestOf} and {@link topK}, so both rank the same way. */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, assertFunction, selectResponses } from './aggregator-options.js';

/**
 * Scores a response; higher is better. Called once per considered response.
 * `NaN` ranks below every number.
 */
export type ResponseScore = (response: AgentResponse) => number;

/**
 * The considered responses sorted by descending score, equal scores in input
 * order (NaN last).
 * @internal
 */
export function rankResponses(
  functionName: string,
  responses: readonly AgentResponse[],
  score: ResponseScore,
  options: AggregatorOptions | undefined,
): AgentResponse[] {
  assertFunction(functionName, 'score', score);
  const considered = selectResponses(functionName, responses, options);
  const scored = considered.map((response) => {
    const value = score(response);
    if (typeof value !== 'number') {
      throw new InvalidOptionError(
        `${functionName}: score must return a number, got ${describeValue(value)} for the response of agent ${response.agentIndex}`,
      );
    }
    return { response, value };
  });
  // Stable sort: ties keep input order. NaN compares as lowest so one bad score
  // cannot make the ordering inconsistent.
  scored.sort((left, right) => {
    const leftIsNaN = Number.isNaN(left.value);
    const rightIsNaN = Number.isNaN(right.value);
    if (leftIsNaN || rightIsNaN) return Number(leftIsNaN) - Number(rightIsNaN);
    if (left.value === right.value) return 0;
    return left.value > right.value ? -1 : 1;
  });
  return scored.map((entry) => entry.response);
}
