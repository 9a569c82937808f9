import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, selectResponses } from './aggregator-options.js';

/** Separator {@link concat} puts between answers unless told otherwise. */
export const DEFAULT_CONCAT_SEPARATOR = '\n';

/** Options of {@link concat}. */
export interface ConcatOptions extends AggregatorOptions {
  /** Put between consecutive answers. @default '\n' */
  separator?: string;
}

/**
 * The texts of the responses joined by `separator`, in input order. Failed
 * responses are skipped unless `includeFailures` is set. No responses → `''`.
 *
 * @example concat(responses, { separator: '\n---\n' })
 */
export function concat(responses: readonly AgentResponse[], options: ConcatOptions = {}): string {
  const considered = selectResponses('concat', responses, options);
  const separator = options.separator ?? DEFAULT_CONCAT_SEPARATOR;
  if (typeof separator !== 'string') {
    throw new InvalidOptionError(
      `concat: option "separator" must be a string, got ${describeValue(separator)}`,
    );
  }
  return considered.map((response) => response.text).join(separator);
}
