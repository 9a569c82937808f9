/**
 * `EmbeddingPool`: embeddings from many agents' `/v1/embeddings`, with the same
 * sub-pools, concurrency sharing and proxy mode as the other pools.
 */
import { InvalidArgumentError, InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import {
  assertPrompt,
  assertPrompts,
  type ResolvedCallOptions,
  resolveCallOptions,
} from './call-options.js';
import { ModelInfoCache } from './model-info-cache.js';
import { createRootContext, PoolBase, type PoolContext, type PoolFamily } from './pool-base.js';
import type { PoolMember } from './pool-member.js';
import {
  extraBodyOption,
  type PoolEnvironment,
  type PoolOptions,
  type ResolvedPoolOptions,
  resolvePoolOptions,
} from './pool-options.js';
import type { TransportFailure } from './transport-attempt.js';
import type { EmbeddingCallOptions, EmbeddingResponse, EmbeddingSwarmPool } from './types.js';

/** `EmbeddingPool` call timeout: 60 s. */
export const DEFAULT_EMBEDDING_POOL_TIMEOUT_MS = 60_000;

/** Options of {@link EmbeddingPool}. */
export interface EmbeddingPoolOptions extends PoolOptions {
  /** Embedding model name. @default the first model the agent lists on `/v1/models` */
  model?: string;
  /** JSON fields merged into every request body (e.g. `{ dimensions: 256 }`). @default undefined */
  extraBody?: Record<string, unknown>;
}

/** `EmbeddingPool` options after validation. */
export interface ResolvedEmbeddingPoolOptions {
  readonly pool: ResolvedPoolOptions;
  readonly model: string | undefined;
  readonly extraBody: Record<string, unknown> | undefined;
}

/**
 * Validate `EmbeddingPool` options (timeout default 60 s, proxy env fallbacks).
 * @throws {InvalidOptionError}
 */
export function resolveEmbeddingPoolOptions(
  options: EmbeddingPoolOptions,
  env: PoolEnvironment = process.env,
): ResolvedEmbeddingPoolOptions {
  const pool = resolvePoolOptions(options, DEFAULT_EMBEDDING_POOL_TIMEOUT_MS, env);
  if (options.model !== undefined && (typeof options.model !== 'string' || options.model === '')) {
    throw new InvalidOptionError(
      `option model: expected a non-empty string, got ${describeValue(options.model)}`,
    );
  }
  return { pool, model: options.model, extraBody: extraBodyOption('extraBody', options.extraBody) };
}

interface EmbeddingFamily extends PoolFamily {
  readonly settings: ResolvedEmbeddingPoolOptions;
  readonly modelInfo: ModelInfoCache;
}

/**
 * A pool of embedding servers (vLLM with an embedding model, or any OpenAI-compatible
 * `/v1/embeddings`). Failures are values, like every pool call.
 *
 * @example
 * await using pool = new EmbeddingPool({ endpoints, model: 'intfloat/e5-mistral-7b-instruct' });
 * const vectors = await pool.embedAll(['first text', 'second text']);
 */
export class EmbeddingPool extends PoolBase implements EmbeddingSwarmPool {
  readonly #family: EmbeddingFamily;

  /**
   * @param options the pool options.
   * @param context internal: used by sub-pool selection; never pass it.
   */
  constructor(options: EmbeddingPoolOptions, context?: PoolContext) {
    super(context ?? createEmbeddingRootContext(options));
    this.#family = this.family as EmbeddingFamily;
  }

  /** The model name sent in requests (the discovered one once known, when not configured). */
  get model(): string | undefined {
    return this.#family.settings.model ?? this.#family.modelInfo.known?.model;
  }

  protected override get extraBody(): Readonly<Record<string, unknown>> | undefined {
    return this.#family.settings.extraBody;
  }

  /**
   * Embed one text on the agent at `agentIndex`. An index outside the pool gives a failed
   * response with `failureKind: 'invalid-index'`.
   * @throws {InvalidOptionError} when `text` or `options` have a wrong type.
   * @throws {PoolClosedError} after the root pool was closed.
   */
  async embedOne(
    agentIndex: number,
    text: string,
    options?: EmbeddingCallOptions,
  ): Promise<EmbeddingResponse> {
    this.assertOpen();
    assertPrompt(text, 'text');
    const call = resolveCallOptions(options, this.timeoutMs);
    const member = Number.isInteger(agentIndex) ? this.members[agentIndex] : undefined;
    if (member === undefined) {
      return {
        success: false,
        error: `agent index ${String(agentIndex)} out of range [0, ${this.size})`,
        failureKind: 'invalid-index',
        agentIndex,
        globalIndex: -1,
      };
    }
    return this.#embed(member, agentIndex, text, call);
  }

  /** Text i is embedded by agent i % size; results in input order. */
  async embedAll(
    texts: readonly string[],
    options?: EmbeddingCallOptions,
  ): Promise<EmbeddingResponse[]> {
    this.assertOpen();
    assertPrompts(texts, 'texts');
    const call = resolveCallOptions(options, this.timeoutMs);
    if (texts.length > 0 && this.size === 0) {
      throw new InvalidArgumentError(`cannot embed ${texts.length} text(s) with an empty pool`);
    }
    const members = this.members;
    const size = members.length;
    return this.fanOut(texts.length, (index) =>
      this.#embed(members[index % size]!, index % size, texts[index]!, call),
    );
  }

  async #embed(
    member: PoolMember,
    agentIndex: number,
    text: string,
    call: ResolvedCallOptions,
  ): Promise<EmbeddingResponse> {
    const cache = this.#family.modelInfo;
    const info = cache.known ?? (await cache.get(member, call.timeoutMs, call.signal));
    if (info === undefined) {
      // The caller aborted while the shared /v1/models lookup was still running.
      return embeddingFailure(member, agentIndex, {
        failureKind: 'aborted',
        error: `aborted by the caller (${member.label})`,
        latencyMs: 0,
      });
    }
    const fields: Record<string, unknown> = {};
    if (info.model !== undefined) fields.model = info.model;
    fields.input = text;
    const result = await this.postJson(member, '/v1/embeddings', fields, call);
    if (!result.ok) return embeddingFailure(member, agentIndex, result);
    const embedding = parseEmbedding(result.bodyText);
    if (embedding === undefined) {
      const shown =
        result.bodyText.length > 200 ? `${result.bodyText.slice(0, 200)}…` : result.bodyText;
      return embeddingFailure(member, agentIndex, {
        failureKind: 'bad-response',
        error: `${member.label} answered ${result.status} without data[0].embedding: ${JSON.stringify(shown)}`,
        latencyMs: result.latencyMs,
      });
    }
    return {
      success: true,
      embedding,
      agentIndex,
      globalIndex: member.globalIndex,
      latencyMs: result.latencyMs,
    };
  }
}

function embeddingFailure(
  member: PoolMember,
  agentIndex: number,
  failure: Pick<TransportFailure, 'failureKind' | 'error' | 'latencyMs'>,
): EmbeddingResponse {
  return {
    success: false,
    error: failure.error,
    failureKind: failure.failureKind,
    agentIndex,
    globalIndex: member.globalIndex,
    latencyMs: failure.latencyMs,
  };
}

function parseEmbedding(bodyText: string): number[] | undefined {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return undefined;
  }
  const data = (json as { data?: unknown } | null)?.data;
  const first = Array.isArray(data) ? (data[0] as { embedding?: unknown } | undefined) : undefined;
  const embedding = first?.embedding;
  if (!Array.isArray(embedding) || !embedding.every((value) => typeof value === 'number')) {
    return undefined;
  }
  return embedding as number[];
}

function createEmbeddingRootContext(options: EmbeddingPoolOptions): PoolContext<EmbeddingFamily> {
  const settings = resolveEmbeddingPoolOptions(options);
  // Embeddings do not size max_tokens: the context length is not needed, so a
  // configured model skips the /v1/models lookup entirely.
  return createRootContext(settings.pool, (transport) => ({
    transport,
    userOptions: options,
    settings,
    modelInfo: new ModelInfoCache(
      transport,
      settings.model,
      settings.model === undefined ? undefined : 1,
      1,
    ),
  }));
}
