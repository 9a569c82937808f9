import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, selectResponses } from './aggregator-options.js';
import { jsonFencedBlocks } from './extract-json-object.js';

/** A considered response whose text could not be read as JSON. */
export interface StructuredMergeError {
  /** Position of the response in the input array. */
  responseIndex: number;
  /** `agentIndex` of the response (Python: `agent_index`). */
  agentIndex: number;
  /** Why it was not merged: the JSON parser's message, or `agent failed: …`. */
  error: string;
}

/** Result of {@link structuredMerge}: the Python original's `(merged_list, errors)` tuple. */
export interface StructuredMergeResult {
  /** Every parsed value in input order; a JSON array contributes its elements (one level). */
  merged: unknown[];
  /** One entry per considered response that could not be parsed, in input order. */
  errors: StructuredMergeError[];
}

/**
 * Parse each response as JSON and merge the values into one flat list, as the Python original's
 * `structured_merge`: a JSON array extends the list with its elements, any other JSON value
 * (object, string, number, …) is appended as it is.
 *
 * A text is read as JSON as a whole; when that fails, the first ```json (or untagged ```) fenced
 * block in it is read instead (the Python original reports such answers as errors). Failed
 * responses are skipped unless `includeFailures` is set, in which case each one is listed in
 * `errors` with the agent's error. See {@link mergeObjects} for merging JSON objects by key.
 *
 * @example structuredMerge([ok('[1, 2]'), ok('{"a": 3}')]).merged // [1, 2, { a: 3 }]
 */
export function structuredMerge(
  responses: readonly AgentResponse[],
  options: AggregatorOptions = {},
): StructuredMergeResult {
  const considered = new Set(selectResponses('structuredMerge', responses, options));
  const result: StructuredMergeResult = { merged: [], errors: [] };
  responses.forEach((response, responseIndex) => {
    if (!considered.has(response)) return;
    const parsed = response.success
      ? readJson(response.text)
      : { ok: false as const, error: `agent failed: ${response.error ?? 'unknown error'}` };
    if (!parsed.ok) {
      result.errors.push({ responseIndex, agentIndex: response.agentIndex, error: parsed.error });
    } else if (Array.isArray(parsed.value)) {
      // push(...value) would overflow the stack on a very long array.
      for (const element of parsed.value) result.merged.push(element);
    } else {
      result.merged.push(parsed.value);
    }
  });
  return result;
}

function readJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const block = jsonFencedBlocks(text)[0];
    if (block === undefined) return { ok: false, error: (error as Error).message };
    try {
      return { ok: true, value: JSON.parse(block.body) };
    } catch (blockError) {
      return { ok: false, error: `fenced block: ${(blockError as Error).message}` };
    }
  }
}
