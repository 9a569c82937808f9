/**
 * Validation of the per-call options (`CallOptions`), done once per `post` or once
 * per fan-out rather than once per request.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { extraBodyOption, positiveInteger, positiveNumber } from './pool-options.js';
import { TAIL_HEDGE, type TailHedge } from './tail-hedge.js';
import type { CallOptions, DispatchPolicy } from './types.js';

/** Call options after validation, with the pool's timeout filled in. @internal */
export interface ResolvedCallOptions {
  readonly maxTokens: number | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly extraBody: Record<string, unknown> | undefined;
  /** A fixed delay; `false` when hedging is off (also the adaptive one); else undefined. */
  readonly hedgeAfterMs: number | false | undefined;
  readonly maxHedges: number;
  /** The least-loaded fan-out hedging this call adaptively (set by the fan-out only). */
  readonly tailHedge?: TailHedge | undefined;
}

/** A fan-out's call options with its {@link TailHedge} attached (read by `resolveCallOptions`). */
export type TailHedgedOptions<Options> = Options & { [TAIL_HEDGE]?: TailHedge };

/**
 * `options` with `tail` attached, unless they set `hedgeAfterMs` (a fixed delay, or off).
 * @internal
 */
export function withTailHedge<Options extends { hedgeAfterMs?: number | false | undefined }>(
  options: Options,
  tail: TailHedge | undefined,
): TailHedgedOptions<Options> {
  if (tail === undefined || options.hedgeAfterMs !== undefined) return options;
  return { ...options, [TAIL_HEDGE]: tail };
}

/** `hedgeAfterMs`: a number > 0, or 0 / `false` for never (not even adaptively). */
function hedgeAfterMsOption(value: unknown): number | false | undefined {
  if (value === undefined) return undefined;
  if (value === false || value === 0) return false;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(
      `option hedgeAfterMs: expected a finite number of milliseconds > 0, or 0 / false for never, got ${describeValue(value)}`,
    );
  }
  return value;
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
    hedgeAfterMs: hedgeAfterMsOption(options.hedgeAfterMs),
    maxHedges: positiveInteger('maxHedges', options.maxHedges, DEFAULT_MAX_HEDGES),
    tailHedge: (options as TailHedgedOptions<CallOptions>)[TAIL_HEDGE],
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
export function assertNoBatchHedge(
  hedgeAfterMs: number | false | undefined,
  functionName: string,
): void {
  // 0 / false (never) is what batch mode does anyway.
  if (hedgeAfterMs !== undefined && hedgeAfterMs !== false && hedgeAfterMs !== 0) {
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
