import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, assertFunction, selectResponses } from './aggregator-options.js';

/** Options of {@link statistics}. */
export interface StatisticsOptions extends AggregatorOptions {
  /**
   * Turns a response into a number. Return `undefined` or a non-finite number
   * to skip the response.
   * @default {@link extractFirstNumber} of the response text
   */
  extract?: (response: AgentResponse) => number | undefined;
}

/** Result of {@link statistics}. With `count` 0 every numeric field is `NaN`. */
export interface StatisticsResult {
  /** Number of values the statistics are computed over. */
  count: number;
  /** Arithmetic mean. */
  mean: number;
  /** Population standard deviation (divides by `count`, so one value gives 0). */
  std: number;
  /** Middle value; the mean of the two middle values for an even count. */
  median: number;
  /** Smallest value. */
  min: number;
  /** Largest value. */
  max: number;
  /** Considered responses that held no number (they are skipped, not fatal). */
  skipped: number;
}

// Decimal numbers with optional sign, fraction and exponent; `1,000` reads as 1.
const NUMBER = /[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/;

/**
 * The first decimal number in `text`, or `undefined` when there is none.
 * @example extractFirstNumber('The answer is -3.5 K') // -3.5
 */
export function extractFirstNumber(text: string): number | undefined {
  const match = NUMBER.exec(text);
  return match ? Number(match[0]) : undefined;
}

/**
 * Count, mean, population standard deviation, median, min and max of the
 * numbers in the responses. Responses without a number are skipped and
 * counted in `skipped`; failed responses are left out (not counted as skipped)
 * unless `includeFailures` is set. No numbers → `count` 0 and `NaN` elsewhere.
 *
 * @example statistics(responses, { extract: (response) => Number.parseFloat(response.text) })
 */
export function statistics(
  responses: readonly AgentResponse[],
  options: StatisticsOptions = {},
): StatisticsResult {
  const considered = selectResponses('statistics', responses, options);
  const extract =
    options.extract ?? ((response: AgentResponse) => extractFirstNumber(response.text));
  assertFunction('statistics', 'option "extract"', extract);

  const values: number[] = [];
  for (const response of considered) {
    const value = extract(response);
    if (value !== undefined && typeof value !== 'number') {
      throw new InvalidOptionError(
        `statistics: option "extract" must return a number or undefined, got ${describeValue(value)}`,
      );
    }
    if (value !== undefined && Number.isFinite(value)) values.push(value);
  }
  const skipped = considered.length - values.length;
  const count = values.length;
  if (count === 0) {
    return { count, mean: NaN, std: NaN, median: NaN, min: NaN, max: NaN, skipped };
  }

  const sorted = [...values].sort((left, right) => left - right);
  const mean = values.reduce((sum, value) => sum + value, 0) / count;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count;
  const middle = Math.floor(count / 2);
  const median = count % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return {
    count,
    mean,
    std: Math.sqrt(variance),
    median,
    min: sorted[0]!,
    max: sorted[count - 1]!,
    skipped,
  };
}
