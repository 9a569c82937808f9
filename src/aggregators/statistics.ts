import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, assertFunction, selectResponses } from './aggregator-options.js';
import { exactMean, exactSampleStd } from './exact-moments.js';
import { parsePythonFloat } from './parse-python-float.js';

/** Options of {@link statistics}. */
export interface StatisticsOptions extends AggregatorOptions {
  /**
   * Turns a response into a number. Return `undefined` or a non-finite number to skip the
   * response (it is counted in `skipped`).
   * @default the response text read as Python's `float(text.strip())` ({@link parsePythonFloat});
   *   use `(response) => extractFirstNumber(response.text)` to read numbers inside prose.
   */
  extract?: (response: AgentResponse) => number | undefined;
}

/**
 * Result of {@link statistics}: the Python original's `mean`, `std`, `median`, `min`, `max`, plus
 * `count` and `skipped`. With `count` 0 every numeric field is 0, as in the Python original.
 */
export interface StatisticsResult {
  /** Number of values the statistics are computed over. */
  count: number;
  /** Arithmetic mean, as Python's `statistics.mean` (exact, rounded once). */
  mean: number;
  /** Sample standard deviation (divides by `count − 1`), as Python's `statistics.stdev`; 0 for one value. */
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
 * The first decimal number in `text`, or `undefined` when there is none. An `extract` for
 * {@link statistics} when answers wrap their number in prose.
 * @example extractFirstNumber('The answer is -3.5 K') // -3.5
 */
export function extractFirstNumber(text: string): number | undefined {
  const match = NUMBER.exec(text);
  return match ? Number(match[0]) : undefined;
}

/**
 * Count, mean, sample standard deviation, median, min and max of the numbers in the responses,
 * with the Python original's values: by default each text is read as Python's
 * `float(r.text.strip())` reads it, and mean and standard deviation are computed exactly as
 * Python's `statistics` module does (equal to the last bit).
 *
 * Deviation: where the Python original raises on a text that is not a number, this skips the
 * response and counts it in `skipped`; non-finite values (`inf`, `nan`) are skipped the same
 * way. Failed responses are left out (not counted as skipped) unless `includeFailures` is set.
 * No numbers → `count` 0 and 0 elsewhere, as in the Python original.
 *
 * @example statistics(responses) // { count: 4, mean: 2.5, std: 1.2909944487358056, median: 2.5, min: 1, max: 4, skipped: 0 }
 */
export function statistics(
  responses: readonly AgentResponse[],
  options: StatisticsOptions = {},
): StatisticsResult {
  const considered = selectResponses('statistics', responses, options);
  const extract = options.extract ?? ((response: AgentResponse) => parsePythonFloat(response.text));
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
  if (count === 0) return { count, mean: 0, std: 0, median: 0, min: 0, max: 0, skipped };

  // Python's sorted() and min()/max() compare with <, keeping the first of equal values.
  const sorted = [...values].sort((left, right) => (left < right ? -1 : right < left ? 1 : 0));
  const middle = Math.floor(count / 2);
  const median = count % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  let min = values[0]!;
  let max = values[0]!;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return {
    count,
    mean: exactMean(values),
    std: count > 1 ? exactSampleStd(values) : 0,
    median,
    min,
    max,
    skipped,
  };
}
