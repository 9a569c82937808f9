/**
 * Validation of the per-call options (`CallOptions`), done once per `post` or once
 * per fan-out rather than once per request.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { extraBodyOption, positiveInteger, positiveNumber } from './pool-options.js';
import type { CallOptions, DispatchPolicy } from './types.js';

/** Call options after validation, with the pool's timeout filled in. @internal */
export interface ResolvedCallOptions {
  readonly maxTokens: number | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly extraBody: Record<string, unknown> | undefined;
  readonly hedgeAfterMs: number | undefined;
  readonly maxHedges: number;
}

/** Extra agents a hedged call goes to unless `maxHedges` says otherwise. */
export const DEFAULT_MAX_HEDGES = 1;

/** @throws {InvalidOptionError} for a wrong type or value. */
export function resolveCallOptions(
  options: CallOptions | undefined,
  poolTimeoutMs: number,
): ResolvedCallOptions {
  if (options === undefined) {
    return {
      maxTokens: undefined,
      timeoutMs: poolTimeoutMs,
      signal: undefined,
      extraBody: undefined,
      hedgeAfterMs: undefined,
      maxHedges: DEFAULT_MAX_HEDGES,
    };
  }
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`call options: expected an object, got ${describeValue(options)}`);
  }
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError(
      `option signal: expected an AbortSignal, got ${describeValue(signal)}`,
    );
  }
  return {
    maxTokens:
      options.maxTokens === undefined
        ? undefined
        : positiveInteger('maxTokens', options.maxTokens, 1),
    timeoutMs: positiveNumber('timeoutMs', options.timeoutMs, poolTimeoutMs),
    signal,
    extraBody: extraBodyOption('extraBody', options.extraBody),
    hedgeAfterMs:
      options.hedgeAfterMs === undefined
        ? undefined
        : positiveNumber('hedgeAfterMs', options.hedgeAfterMs, 0),
    maxHedges: positiveInteger('maxHedges', options.maxHedges, DEFAULT_MAX_HEDGES),
  };
}

/**
 * Why a batch request is never hedged: its answer is not streamed, so its headers come only
 * once every prompt of it is generated — hedging after any usual delay would send every
 * batch twice.
 */
export const BATCH_HEDGE_REFUSAL =
  "hedgeAfterMs does not apply to batch mode: a batch's answer starts only once every prompt in it is generated, so every batch would be sent twice (hedge on a pool with batch: false)";

/**
 * @throws {InvalidOptionError} when a batch request is asked to hedge (see
 *   {@link BATCH_HEDGE_REFUSAL}).
 */
export function assertNoBatchHedge(hedgeAfterMs: number | undefined, functionName: string): void {
  if (hedgeAfterMs !== undefined) {
    throw new InvalidOptionError(`${functionName}: ${BATCH_HEDGE_REFUSAL}`);
  }
}

/**
 * `dispatch` of a fan-out: `round-robin` (the default) or `least-loaded`.
 * @throws {InvalidOptionError} for anything else.
 */
export function resolveDispatch(value: unknown, functionName: string): DispatchPolicy {
  if (value === undefined || value === 'round-robin') return 'round-robin';
  if (value === 'least-loaded') return 'least-loaded';
  throw new InvalidOptionError(
    `${functionName}: option dispatch must be 'round-robin' or 'least-loaded', got ${describeValue(value)}`,
  );
}

/** @throws {InvalidOptionError} unless `prompt` is a string. */
export function assertPrompt(prompt: unknown, name = 'prompt'): asserts prompt is string {
  if (typeof prompt !== 'string') {
    throw new InvalidOptionError(`${name}: expected a string, got ${describeValue(prompt)}`);
  }
}

/** @throws {InvalidOptionError} unless `prompts` is an array of strings. */
export function assertPrompts(prompts: unknown, name = 'prompts'): asserts prompts is string[] {
  if (!Array.isArray(prompts)) {
    throw new InvalidOptionError(
      `${name}: expected an array of strings, got ${describeValue(prompts)}`,
    );
  }
  for (let index = 0; index < prompts.length; index++) {
    if (typeof prompts[index] !== 'string') {
      throw new InvalidOptionError(
        `${name}[${index}]: expected a string, got ${describeValue(prompts[index])}`,
      );
    }
  }
}
