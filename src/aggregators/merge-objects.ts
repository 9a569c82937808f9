import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, selectResponses } from './aggregator-options.js';
import { extractJsonObject, isPlainObject } from './extract-json-object.js';

/** A response whose text held no usable JSON object. */
export interface MergeObjectsError {
  /** Position of the response in the input array. */
  responseIndex: number;
  /** `agentIndex` of the response. */
  agentIndex: number;
  /** Why it was not merged, e.g. `no JSON object found in the text`. */
  reason: string;
}

/** Two responses gave different values at the same place; the later one was kept. */
export interface MergeObjectsConflict {
  /** Keys from the root of the merged object to the conflicting value. */
  path: string[];
  /** The value that was there before (and was replaced). */
  previous: unknown;
  /** The value that replaced it. */
  value: unknown;
  /** `agentIndex` of the response whose value won. */
  agentIndex: number;
}

/** Result of {@link mergeObjects}. */
export interface MergeObjectsResult {
  /** All parsed objects merged in input order; `{}` when none parsed. */
  merged: Record<string, unknown>;
  /** One entry per considered response that could not be parsed, in input order. */
  errors: MergeObjectsError[];
  /** Every scalar or type conflict, in the order they were resolved. */
  conflicts: MergeObjectsConflict[];
  /** Number of responses whose object was merged. */
  mergedCount: number;
}

/**
 * Parse each response's text as a JSON object and merge them in input order.
 *
 * Parsing: the whole text, else the first ```json (or bare ```) fenced block
 * that holds an object, else the span from the first `{` to the last `}`.
 * Merging: keys are unioned; nested objects merge recursively; arrays are
 * concatenated (no deduplication); differing scalars, or values of different
 * types, are won by the later response and recorded in `conflicts`. Failed
 * responses are skipped unless `includeFailures` is set, in which case each one
 * is listed in `errors` with the agent's error.
 *
 * @example mergeObjects(responses).merged
 */
export function mergeObjects(
  responses: readonly AgentResponse[],
  options: AggregatorOptions = {},
): MergeObjectsResult {
  const considered = new Set(selectResponses('mergeObjects', responses, options));
  const result: MergeObjectsResult = { merged: {}, errors: [], conflicts: [], mergedCount: 0 };
  responses.forEach((response, responseIndex) => {
    if (!considered.has(response)) return;
    if (!response.success) {
      result.errors.push({
        responseIndex,
        agentIndex: response.agentIndex,
        reason: `agent failed: ${response.error ?? 'unknown error'}`,
      });
      return;
    }
    const extracted = extractJsonObject(response.text);
    if (!extracted.ok) {
      result.errors.push({
        responseIndex,
        agentIndex: response.agentIndex,
        reason: extracted.reason,
      });
      return;
    }
    mergeInto(result.merged, extracted.value, [], response.agentIndex, result.conflicts);
    result.mergedCount++;
  });
  return result;
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: string[],
  agentIndex: number,
  conflicts: MergeObjectsConflict[],
): void {
  for (const [key, value] of Object.entries(source)) {
    if (!Object.hasOwn(target, key)) {
      setOwn(target, key, value);
      continue;
    }
    const previous = target[key];
    if (isPlainObject(previous) && isPlainObject(value)) {
      mergeInto(previous, value, [...path, key], agentIndex, conflicts);
    } else if (Array.isArray(previous) && Array.isArray(value)) {
      setOwn(target, key, [...previous, ...value]);
    } else if (!sameJson(previous, value)) {
      conflicts.push({ path: [...path, key], previous, value, agentIndex });
      setOwn(target, key, value);
    }
  }
}

// JSON.parse makes "__proto__" an own key; plain assignment would instead set
// the prototype of the merged object.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function sameJson(left: unknown, right: unknown): boolean {
  return Object.is(left, right) || JSON.stringify(left) === JSON.stringify(right);
}
