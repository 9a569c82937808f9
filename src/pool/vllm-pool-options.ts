/**
 * Options of `VLLMPool`, their defaults, and the resolve function (the only place
 * that reads `AURORA_SWARM_MAX_TOKENS`, `AURORA_SWARM_MAX_TOKENS_AGGREGATION` and
 * `AURORA_SWARM_MODEL_MAX_CONTEXT`).
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import {
  extraBodyOption,
  integerFromEnv,
  nonNegativeInteger,
  type PoolEnvironment,
  type PoolOptions,
  positiveInteger,
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
  /** Make `sendAll` use batch mode (see `sendAllBatched`). @default false */
  batch?: boolean;
  /** In batch mode, at most this many prompts per `/v1/completions` request. @default unlimited (one request per agent) */
  batchSize?: number;
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
