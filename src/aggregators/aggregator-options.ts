/**
 * Options every aggregator shares, and the one place that decides which
 * responses an aggregator looks at.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';

/** Whether aggregators consider failed responses unless told otherwise. */
export const DEFAULT_INCLUDE_FAILURES = false;

/** Options shared by every aggregator. */
export interface AggregatorOptions {
  /**
   * Consider failed responses (`success: false`) too. Their `text` is `''`, so
   * they count as empty answers.
   * @default false
   */
  includeFailures?: boolean;
}

/**
 * Validate `responses` and the shared options of aggregator `functionName`, and
 * return the responses it should consider, in input order.
 * @internal
 */
export function selectResponses(
  functionName: string,
  responses: readonly AgentResponse[],
  options: AggregatorOptions | undefined,
): AgentResponse[] {
  assertResponses(functionName, responses);
  const includeFailures = resolveIncludeFailures(functionName, options);
  return includeFailures ? [...responses] : responses.filter((response) => response.success);
}

/** @internal */
export function assertResponses(functionName: string, responses: readonly AgentResponse[]): void {
  if (!Array.isArray(responses)) {
    throw new InvalidOptionError(
      `${functionName}: responses must be an array of AgentResponse, got ${describeValue(responses)}`,
    );
  }
  responses.forEach((response, position) => {
    if (
      typeof response !== 'object' ||
      response === null ||
      typeof response.success !== 'boolean' ||
      typeof response.text !== 'string'
    ) {
      throw new InvalidOptionError(
        `${functionName}: responses[${position}] must be an AgentResponse ({ success: boolean, text: string, ... }), got ${describeValue(response)}`,
      );
    }
  });
}

/** @internal */
export function assertOptionsObject(functionName: string, options: unknown): void {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidOptionError(
      `${functionName}: options must be an object, got ${describeValue(options)}`,
    );
  }
}

function resolveIncludeFailures(
  functionName: string,
  options: AggregatorOptions | undefined,
): boolean {
  assertOptionsObject(functionName, options);
  const value = options?.includeFailures ?? DEFAULT_INCLUDE_FAILURES;
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(
      `${functionName}: option "includeFailures" must be a boolean, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** @internal */
export function assertFunction(functionName: string, name: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new InvalidOptionError(
      `${functionName}: ${name} must be a function, got ${describeValue(value)}`,
    );
  }
}
