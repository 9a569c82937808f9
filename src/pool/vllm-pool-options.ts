/**
 * Options of `VLLMPool`, their defaults, and the resolve function (the only place
 * that reads `AURORA_SWARM_MAX_TOKENS`, `AURORA_SWARM_MAX_TOKENS_AGGREGATION`,
 * `AURORA_SWARM_MODEL_MAX_CONTEXT` and `AURORA_SWARM_TIMEOUT_PER_SEQUENCE`).
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import {
  extraBodyOption,
  integerFromEnv,
  nonNegativeInteger,
  nonNegativeNumber,
  type PoolEnvironment,
  type PoolOptions,
  positiveInteger,
  positiveNumber,
  type ResolvedPoolOptions,
  resolvePoolOptions,
} from './pool-options.js';

/** `VLLMPool` call timeout: 300 s. */
export const DEFAULT_VLLM_POOL_TIMEOUT_MS = 300_000;
/** Generated-token budget of a call, unless `AURORA_SWARM_MAX_TOKENS` says otherwise. */
export const DEFAULT_MAX_TOKENS = 512;
/** Tokens kept free between prompt and context end when sizing `max_tokens`. */
export const DEFAULT_CONTEXT_BUFFER_TOKENS = 512;
/** The smallest `max_tokens` context sizing goes down to. */
export const MIN_SIZED_MAX_TOKENS = 128;
/**
 * Context length assumed when `/v1/models` cannot be read and none is configured.
 * Conservative on purpose: underestimating only shortens long answers to long
 * prompts, overestimating makes the agent reject them.
 */
export const DEFAULT_MODEL_MAX_CONTEXT = 32_768;
/** Environment variable replacing {@link DEFAULT_MAX_TOKENS}. */
export const MAX_TOKENS_ENV_VAR = 'AURORA_SWARM_MAX_TOKENS';
/** Environment variable replacing the aggregation budget (2 × max tokens). */
export const MAX_TOKENS_AGGREGATION_ENV_VAR = 'AURORA_SWARM_MAX_TOKENS_AGGREGATION';
/** Environment variable giving the model's context length (skips the `/v1/models` lookup). */
export const MODEL_MAX_CONTEXT_ENV_VAR = 'AURORA_SWARM_MODEL_MAX_CONTEXT';
/** Batch mode: the time one wave of sequences is expected to take (Python's `timeout_per_sequence=60.0`). */
export const DEFAULT_TIMEOUT_PER_SEQUENCE_MS = 60_000;
/** Batch mode: sequences vLLM runs at once, one "wave" (Python's `batch_concurrency=256`; vLLM's `--max-num-seqs`). */
export const DEFAULT_BATCH_CONCURRENCY = 256;
/** Environment variable replacing {@link DEFAULT_TIMEOUT_PER_SEQUENCE_MS}, in seconds as in Python. */
export const TIMEOUT_PER_SEQUENCE_ENV_VAR = 'AURORA_SWARM_TIMEOUT_PER_SEQUENCE';

/** Options of {@link VLLMPool}. */
export interface VLLMPoolOptions extends PoolOptions {
  /**
   * Model name sent in every request. @default the first model the agent lists on
   * `/v1/models` (looked up once per pool family)
   */
  model?: string;
  /**
   * Upper bound of `max_tokens` per call (a call's own `maxTokens` replaces it).
   * @default `AURORA_SWARM_MAX_TOKENS`, else 512
   */
  maxTokens?: number;
  /**
   * Token budget for aggregation steps (reducers, supervisors).
   * @default `AURORA_SWARM_MAX_TOKENS_AGGREGATION`, else 2 × maxTokens
   */
  maxTokensAggregation?: number;
  /**
   * The model's context length in tokens, used to size `max_tokens`.
   * @default `AURORA_SWARM_MODEL_MAX_CONTEXT`, else `max_model_len` from `/v1/models`
   *   (fetched once), else 32768
   */
  modelMaxContext?: number;
  /** Tokens left free when sizing `max_tokens` to the context. @default 512 */
  contextBufferTokens?: number;
  /**
   * Batch mode: `sendAll`, `scatterGather` and `mapGather` send each agent's share as
   * `/v1/completions` prompt lists (raw prompts, no chat template) instead of one chat
   * completion per prompt. The Python original's `use_batch` (default there: on).
   * @default false
   */
  batch?: boolean;
  /** In batch mode, at most this many prompts per `/v1/completions` request. @default unlimited (one request per agent) */
  batchSize?: number;
  /**
   * Batch timeout scaling: how long one wave of `batchConcurrency` sequences may take. A
   * batch of n prompts gets `max(timeoutMs, ceil(n / batchConcurrency) × timeoutPerSequenceMs)`
   * (then `batchTimeoutCapMs`). 0 turns the scaling off.
   * @default `AURORA_SWARM_TIMEOUT_PER_SEQUENCE` (seconds), else 60000
   */
  timeoutPerSequenceMs?: number;
  /** Batch mode: sequences an agent runs at once (its `--max-num-seqs`), for the timeout scaling. @default 256 */
  batchConcurrency?: number;
  /** Batch mode: upper bound of a batch's scaled timeout, in milliseconds. @default none */
  batchTimeoutCapMs?: number;
  /** JSON fields merged into every request body (a call's `extraBody` is merged over it). @default undefined */
  extraBody?: Record<string, unknown>;
}

/** `VLLMPool` options after validation, defaults and environment. */
export interface ResolvedVLLMPoolOptions {
  readonly pool: ResolvedPoolOptions;
  readonly model: string | undefined;
  readonly maxTokens: number;
  readonly maxTokensAggregation: number;
  readonly modelMaxContext: number | undefined;
  readonly contextBufferTokens: number;
  readonly batch: boolean;
  readonly batchSize: number;
  readonly timeoutPerSequenceMs: number;
  readonly batchConcurrency: number;
  readonly batchTimeoutCapMs: number | undefined;
  readonly extraBody: Record<string, unknown> | undefined;
}

/**
 * Validate `VLLMPool` options and apply defaults and environment fallbacks
 * (explicit options always win over environment variables).
 * @throws {InvalidOptionError}
 */
export function resolveVLLMPoolOptions(
  options: VLLMPoolOptions,
  env: PoolEnvironment = process.env,
): ResolvedVLLMPoolOptions {
  const pool = resolvePoolOptions(options, DEFAULT_VLLM_POOL_TIMEOUT_MS, env);
  const model = options.model;
  if (model !== undefined && (typeof model !== 'string' || model === '')) {
    throw new InvalidOptionError(
      `option model: expected a non-empty string like "meta-llama/Llama-3.1-70B-Instruct", got ${describeValue(model)}`,
    );
  }
  const maxTokens = positiveInteger(
    'maxTokens',
    options.maxTokens,
    integerFromEnv(env, MAX_TOKENS_ENV_VAR) ?? DEFAULT_MAX_TOKENS,
  );
  const maxTokensAggregation = positiveInteger(
    'maxTokensAggregation',
    options.maxTokensAggregation,
    integerFromEnv(env, MAX_TOKENS_AGGREGATION_ENV_VAR) ?? 2 * maxTokens,
  );
  const modelMaxContext =
    options.modelMaxContext === undefined
      ? integerFromEnv(env, MODEL_MAX_CONTEXT_ENV_VAR)
      : positiveInteger('modelMaxContext', options.modelMaxContext, 1);
  if (options.batch !== undefined && typeof options.batch !== 'boolean') {
    throw new InvalidOptionError(
      `option batch: expected a boolean, got ${describeValue(options.batch)}`,
    );
  }
  return {
    pool,
    model,
    maxTokens,
    maxTokensAggregation,
    modelMaxContext,
    contextBufferTokens: nonNegativeInteger(
      'contextBufferTokens',
      options.contextBufferTokens,
      DEFAULT_CONTEXT_BUFFER_TOKENS,
    ),
    batch: options.batch ?? false,
    batchSize: positiveInteger('batchSize', options.batchSize, Number.MAX_SAFE_INTEGER),
    timeoutPerSequenceMs: nonNegativeNumber(
      'timeoutPerSequenceMs',
      options.timeoutPerSequenceMs,
      secondsFromEnv(env, TIMEOUT_PER_SEQUENCE_ENV_VAR) ?? DEFAULT_TIMEOUT_PER_SEQUENCE_MS,
    ),
    batchConcurrency: positiveInteger(
      'batchConcurrency',
      options.batchConcurrency,
      DEFAULT_BATCH_CONCURRENCY,
    ),
    batchTimeoutCapMs:
      options.batchTimeoutCapMs === undefined
        ? undefined
        : positiveNumber('batchTimeoutCapMs', options.batchTimeoutCapMs, 1),
    extraBody: extraBodyOption('extraBody', options.extraBody),
  };
}

/**
 * `max_tokens` for a prompt: `min(maxTokens, max(128, contextLength − ceil(promptChars / 4) − buffer))`.
 * Four characters a token is a rough estimate; the buffer absorbs the chat template.
 */
export function sizeMaxTokens(
  maxTokens: number,
  contextLength: number,
  promptChars: number,
  bufferTokens: number,
): number {
  const room = contextLength - Math.ceil(promptChars / 4) - bufferTokens;
  return Math.min(maxTokens, Math.max(MIN_SIZED_MAX_TOKENS, room));
}

/**
 * The timeout of one batch request of `promptCount` prompts, as the Python original's
 * `post_batch`: `max(baseTimeoutMs, ceil(promptCount / batchConcurrency) × timeoutPerSequenceMs)`,
 * lowered to `batchTimeoutCapMs` when one is set (a wave is what vLLM runs at once).
 */
export function batchTimeoutMs(
  baseTimeoutMs: number,
  promptCount: number,
  settings: Pick<
    ResolvedVLLMPoolOptions,
    'timeoutPerSequenceMs' | 'batchConcurrency' | 'batchTimeoutCapMs'
  >,
): number {
  const waves = Math.max(1, Math.ceil(promptCount / settings.batchConcurrency));
  const scaled = Math.max(baseTimeoutMs, waves * settings.timeoutPerSequenceMs);
  return settings.batchTimeoutCapMs === undefined
    ? scaled
    : Math.min(scaled, settings.batchTimeoutCapMs);
}

/** A number of seconds (fractions allowed, ≥ 0) from the environment, in milliseconds. */
function secondsFromEnv(env: PoolEnvironment, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const seconds = Number(text.trim());
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidOptionError(
      `environment variable ${name}: expected a number of seconds >= 0 (e.g. 60 or 2.5), got ${describeValue(text)}`,
    );
  }
  return seconds * 1000;
}
