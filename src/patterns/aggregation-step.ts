/**
 * What every aggregation step (reducer, supervisor, collector) shares: how answers are joined
 * into `{responses}`, its token budget, and what is reported when there is nothing to aggregate.
 */
import { fillTemplate } from '../internal/fill-template.js';
import type { AgentResponse, CallOptions, SwarmPool } from '../pool/types.js';
import type { ResolvedPatternOptions } from './pattern-options.js';
import { NOT_SENT_ABORTED, unsentResponse } from './unsent-response.js';

/** Separator between answers substituted for `{responses}`. */
export const RESPONSE_SEPARATOR = '\n---\n';

/** The texts of the successful responses, in order, joined by `RESPONSE_SEPARATOR`. */
export function joinSuccessfulTexts(responses: readonly AgentResponse[]): string {
  return responses
    .filter((response) => response.success)
    .map((response) => response.text)
    .join(RESPONSE_SEPARATOR);
}

/** Call options of an aggregation call: the pool's aggregation budget wins over `maxTokens`. */
export function aggregationCallOptions(
  pool: SwarmPool,
  callOptions: Omit<CallOptions, 'signal'>,
  signal: AbortSignal | undefined,
): CallOptions {
  const maxTokens = pool.maxTokensAggregation ?? callOptions.maxTokens;
  const options: CallOptions = { ...callOptions, signal };
  if (maxTokens !== undefined) options.maxTokens = maxTokens;
  return options;
}

/**
 * The failed response reported for an aggregation step that was not called because none of its
 * inputs succeeded. It carries the first input failure's kind and message so the cause is kept.
 */
export function noSuccessfulInputResponse(
  agentIndex: number,
  step: string,
  inputs: readonly AgentResponse[],
): AgentResponse {
  const first = inputs.find((response) => !response.success);
  const cause = first?.error ? ` First error: ${first.error}` : '';
  return unsentResponse(
    agentIndex,
    `${step} was not called: none of its ${inputs.length} input(s) succeeded.${cause}`,
    first?.failureKind ?? 'agent-error',
  );
}

/**
 * One aggregation call over `inputs` (a reducer, a collector): `template` with
 * `{responses}` ← the successful inputs, sent to `agentIndex` with the aggregation
 * budget. Not called, and reported as a failure, when the signal already fired or
 * no input succeeded.
 */
export function runAggregationStep(
  pool: SwarmPool,
  agentIndex: number,
  step: string,
  template: string,
  inputs: readonly AgentResponse[],
  resolved: ResolvedPatternOptions,
): Promise<AgentResponse> {
  if (resolved.signal?.aborted)
    return Promise.resolve(unsentResponse(agentIndex, NOT_SENT_ABORTED));
  if (!inputs.some((response) => response.success)) {
    return Promise.resolve(noSuccessfulInputResponse(agentIndex, step, inputs));
  }
  const filled = fillTemplate(template, { responses: joinSuccessfulTexts(inputs) });
  return pool.post(
    agentIndex,
    filled,
    aggregationCallOptions(pool, resolved.callOptions, resolved.signal),
  );
}
