/**
 * `VLLMPool`: an `AgentPool` that speaks vLLM's OpenAI-compatible API — chat
 * completions by default, `max_tokens` sized to the model's context, an opt-in
 * batch mode over `/v1/completions`, and streaming of single calls.
 */
import { InvalidArgumentError } from '../errors.js';
import { planBatches } from '../internal/plan-batches.js';
import { AgentPool } from './agent-pool.js';
import {
  badResponse,
  failedResponse,
  invalidIndexResponse,
  successResponse,
} from './agent-response.js';
import {
  assertNoBatchHedge,
  assertPrompt,
  assertPrompts,
  type ResolvedCallOptions,
  resolveCallOptions,
  resolveDispatch,
} from './call-options.js';
import { type ModelInfo, ModelInfoCache } from './model-info-cache.js';
import { parseCompletion } from './parse-completion.js';
import { createRootContext, type PoolContext, type PoolFamily } from './pool-base.js';
import type { PoolMember } from './pool-member.js';
import { StreamingCall } from './streaming-call.js';
import type { TransportFailure } from './transport-attempt.js';
import type { AgentResponse, CallOptions, SendAllOptions, SwarmPool } from './types.js';
import {
  batchTimeoutMs,
  DEFAULT_MODEL_MAX_CONTEXT,
  type ResolvedVLLMPoolOptions,
  resolveVLLMPoolOptions,
  sizeMaxTokens,
  type VLLMPoolOptions,
} from './vllm-pool-options.js';

// Set after the extra bodies: a streamed call must stream, and report its usage.
const STREAM_FIELDS: Readonly<Record<string, unknown>> = {
  stream: true,
  stream_options: { include_usage: true },
};

/** State shared by a `VLLMPool` and its sub-pools. @internal */
interface VLLMFamily extends PoolFamily {
  readonly settings: ResolvedVLLMPoolOptions;
  readonly modelInfo: ModelInfoCache;
}

/**
 * A pool of vLLM servers. `post` sends `/v1/chat/completions` with the prompt as one
 * user message.
 *
 * @example
 * await using pool = new VLLMPool({ endpoints: parseHostfile('hostfile.txt'), model: 'meta-llama/Llama-3.1-70B-Instruct' });
 * const [answer] = await pool.sendAll(['What is the lacZ gene?']);
 */
export class VLLMPool extends AgentPool implements SwarmPool {
  readonly #family: VLLMFamily;

  /**
   * @param options the pool options.
   * @param context internal: used by sub-pool selection; never pass it.
   */
  constructor(options: VLLMPoolOptions, context?: PoolContext) {
    super(options, context ?? createVLLMRootContext(options));
    this.#family = this.family as VLLMFamily;
  }

  /** The model name sent in requests (the discovered one once known, when not configured). */
  get model(): string | undefined {
    return this.#family.settings.model ?? this.#family.modelInfo.known?.model;
  }

  /** Upper bound of `max_tokens` per call. @default 512 */
  get maxTokens(): number {
    return this.#family.settings.maxTokens;
  }

  /** Token budget for aggregation steps. @default 2 × maxTokens */
  override get maxTokensAggregation(): number {
    return this.#family.settings.maxTokensAggregation;
  }

  /** Whether the pool was created with `batch: true` (patterns then scatter in batches). */
  get batch(): boolean {
    return this.#family.settings.batch;
  }

  /** At most this many prompts per batch request (`Number.MAX_SAFE_INTEGER`: a whole share). */
  get batchSize(): number {
    return this.#family.settings.batchSize;
  }

  /** Batch timeout scaling: the time one wave of `batchConcurrency` sequences may take. @default 60000 */
  get timeoutPerSequenceMs(): number {
    return this.#family.settings.timeoutPerSequenceMs;
  }

  /** Batch timeout scaling: sequences an agent runs at once. @default 256 */
  get batchConcurrency(): number {
    return this.#family.settings.batchConcurrency;
  }

  /** Upper bound of a batch's scaled timeout, or `undefined` for none. */
  get batchTimeoutCapMs(): number | undefined {
    return this.#family.settings.batchTimeoutCapMs;
  }

  /** `sendAll`, with batch mode when the pool was created with `batch: true`. */
  override async sendAll(
    prompts: readonly string[],
    options?: SendAllOptions,
  ): Promise<AgentResponse[]> {
    if (this.#family.settings.batch) return this.sendAllBatched(prompts, options);
    return super.sendAll(prompts, options);
  }

  /**
   * Batch mode: prompt i still goes to agent i % size, but each agent's share is sent as
   * `/v1/completions` prompt lists (one per agent, or cut by `batchSize`) with
   * {@link postBatch}. With `dispatch: 'least-loaded'` the same lists each go to the agent
   * with the fewest calls in flight when they are sent ({@link postBatchLeastLoaded}). Raw
   * completions skip the chat template, so answers may differ from `sendAll`'s. Results in
   * input order.
   * @throws {InvalidOptionError} for wrong prompts or options, and for `hedgeAfterMs` (a
   *   batch is never hedged).
   */
  async sendAllBatched(
    prompts: readonly string[],
    options?: SendAllOptions,
  ): Promise<AgentResponse[]> {
    const call = this.#batchCall(prompts, options, 'sendAllBatched');
    const leastLoaded = resolveDispatch(options?.dispatch, 'sendAllBatched') === 'least-loaded';
    const size = this.size;
    this.#assertAgents(prompts.length);
    const batches = planBatches(prompts.length, size, this.#family.settings.batchSize);
    const results = new Array<AgentResponse>(prompts.length);
    await this.fanOut(batches.length, async (batchNumber) => {
      const { agentIndex, promptIndices } = batches[batchNumber]!;
      const answers = await this.#callBatch(
        leastLoaded ? undefined : this.members[agentIndex]!,
        leastLoaded ? -1 : agentIndex,
        promptIndices.map((index) => prompts[index]!),
        call,
      );
      promptIndices.forEach((promptIndex, position) => {
        results[promptIndex] = answers[position]!;
      });
    });
    return results;
  }

  /**
   * One `/v1/completions` request with `prompts` as its prompt list to the agent at
   * `agentIndex` (the Python original's `post_batch`); one response per prompt, in order,
   * mapped by each choice's `index`. `max_tokens` is sized for the longest prompt. The
   * request's timeout is `max(timeoutMs, ceil(n / batchConcurrency) × timeoutPerSequenceMs)`,
   * capped by `batchTimeoutCapMs`; a batch that times out (or meets a 502/503 or a refused
   * connection) is sent again after a backoff, up to `maxRetries` times, holding no
   * concurrency slot while it waits. The agent's circuit breaker guards it as any call: once
   * open, the batch fails at once, each prompt with `failureKind: 'unavailable'`. A failed
   * request fails each of its prompts; a missing choice fails only its prompt. An index
   * outside the pool gives `invalid-index` failures.
   * @throws {InvalidOptionError} when `prompts` or `options` have a wrong type, and for
   *   `hedgeAfterMs` (a batch is never hedged).
   * @throws {PoolClosedError} after the root pool was closed.
   */
  async postBatch(
    agentIndex: number,
    prompts: readonly string[],
    options?: CallOptions,
  ): Promise<AgentResponse[]> {
    const call = this.#batchCall(prompts, options, 'postBatch');
    const member = Number.isInteger(agentIndex) ? this.members[agentIndex] : undefined;
    if (member === undefined) return prompts.map(() => invalidIndexResponse(agentIndex, this.size));
    if (prompts.length === 0) return [];
    return this.#callBatch(member, agentIndex, [...prompts], call);
  }

  /**
   * {@link postBatch} to the agent of this pool with the fewest calls in flight (a batch
   * counts as one call; agents whose circuit breaker is open are skipped, ties spread),
   * sent at once to another agent when that one cannot be reached. `agentIndex` and
   * `globalIndex` of the responses name the agent that answered.
   * @throws {InvalidOptionError} as {@link postBatch}.
   * @throws {InvalidArgumentError} when the pool has no agents.
   * @throws {PoolClosedError} after the root pool was closed.
   */
  async postBatchLeastLoaded(
    prompts: readonly string[],
    options?: CallOptions,
  ): Promise<AgentResponse[]> {
    const call = this.#batchCall(prompts, options, 'postBatchLeastLoaded');
    if (prompts.length === 0) return [];
    this.#assertAgents(prompts.length);
    return this.#callBatch(undefined, -1, [...prompts], call);
  }

  /** The checks every batch method makes first; its call options. */
  #batchCall(
    prompts: readonly string[],
    options: CallOptions | undefined,
    functionName: string,
  ): ResolvedCallOptions {
    this.assertOpen();
    assertPrompts(prompts);
    const call = resolveCallOptions(options, this.timeoutMs);
    assertNoBatchHedge(call.hedgeAfterMs, functionName);
    // A batch is never hedged, not even by a least-loaded fan-out's adaptive rule.
    return call.tailHedge === undefined ? call : { ...call, tailHedge: undefined };
  }

  /** @throws {InvalidArgumentError} when there are prompts and the pool has no agents. */
  #assertAgents(promptCount: number): void {
    if (promptCount > 0 && this.size === 0) {
      throw new InvalidArgumentError(`cannot send ${promptCount} prompt(s) to an empty pool`);
    }
  }

  /**
   * Stream one chat completion: iterate for text deltas as they arrive; `response`
   * resolves to the full `AgentResponse` (never rejects). Breaking out of the loop
   * cancels the request. Retries happen only before any byte arrived.
   *
   * @example
   * const call = pool.stream(0, 'Tell me a story');
   * for await (const delta of call) process.stdout.write(delta);
   * const response = await call.response;
   */
  stream(agentIndex: number, prompt: string, options?: CallOptions): StreamingCall {
    this.assertOpen();
    assertPrompt(prompt);
    const call = resolveCallOptions(options, this.timeoutMs);
    const member = Number.isInteger(agentIndex) ? this.members[agentIndex] : undefined;
    return new StreamingCall(async () => {
      if (member === undefined) return { member: undefined, agentIndex, size: this.size };
      // Aborted while waiting for the model information: the transport sees the signal
      // already fired and answers `aborted` without sending anything.
      const fields = (await this.#chatFields(member, prompt, call)) ?? {};
      return {
        member,
        agentIndex,
        size: this.size,
        request: this.jsonPost(member, '/v1/chat/completions', fields, call, STREAM_FIELDS),
        transport: this.transport,
      };
    });
  }

  protected override async callAgent(
    requested: PoolMember | undefined,
    requestedIndex: number,
    prompt: string,
    call: ResolvedCallOptions,
  ): Promise<AgentResponse> {
    const pending = this.#chatFields(requested, prompt, call);
    const fields = pending instanceof Promise ? await pending : pending;
    if (fields === undefined) return abortedResponse(requested, requestedIndex);
    const result = await this.postJson(requested, '/v1/chat/completions', fields, call);
    const { member, agentIndex } = this.answeredBy(result, requested, requestedIndex);
    if (!result.ok || member === undefined) {
      return failedResponse(member, agentIndex, result as TransportFailure);
    }
    const parsed = parseCompletion(result.bodyText);
    if (!parsed.ok || parsed.choices.length === 0) {
      return badResponse(
        member,
        agentIndex,
        parsed.ok ? 'no usable choice' : parsed.what,
        result.bodyText,
        result.status,
        result.latencyMs,
        result.hedged,
      );
    }
    const choice = parsed.choices[0]!;
    return successResponse(member, agentIndex, {
      text: choice.text,
      status: result.status,
      latencyMs: result.latencyMs,
      usage: parsed.usage,
      finishReason: choice.finishReason,
      hedged: result.hedged,
    });
  }

  /**
   * The chat request's fields; `undefined` when the call's signal fired while waiting for the
   * model information. Synchronous once that information is known (every call but the
   * first few): no promise per call.
   */
  #chatFields(
    member: PoolMember | undefined,
    prompt: string,
    call: ResolvedCallOptions,
  ): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined> {
    const info = this.#modelInfo(member, call);
    if (info instanceof Promise) {
      return info.then((known) => known && this.#chatFieldsFor(known, prompt, call));
    }
    return info && this.#chatFieldsFor(info, prompt, call);
  }

  #chatFieldsFor(
    info: ModelInfo,
    prompt: string,
    call: ResolvedCallOptions,
  ): Record<string, unknown> {
    const fields: Record<string, unknown> = {};
    if (info.model !== undefined) fields.model = info.model;
    fields.messages = [{ role: 'user', content: prompt }];
    fields.max_tokens = this.#sizeMaxTokens(info, prompt.length, call);
    return fields;
  }

  /** One batch to `requested`, or (`undefined`) to the least-loaded agent with failover. */
  async #callBatch(
    requested: PoolMember | undefined,
    requestedIndex: number,
    prompts: string[],
    call: ResolvedCallOptions,
  ): Promise<AgentResponse[]> {
    const info = await this.#modelInfo(requested, call);
    if (info === undefined) return prompts.map(() => abortedResponse(requested, requestedIndex));
    const fields: Record<string, unknown> = {};
    if (info.model !== undefined) fields.model = info.model;
    fields.prompt = prompts;
    // One max_tokens for the whole list: size it for the longest prompt.
    let longest = 0;
    for (const prompt of prompts) if (prompt.length > longest) longest = prompt.length;
    fields.max_tokens = this.#sizeMaxTokens(info, longest, call);
    const timeoutMs = batchTimeoutMs(call.timeoutMs, prompts.length, this.#family.settings);
    const request = this.jsonPost(requested, '/v1/completions', fields, { ...call, timeoutMs });
    const result = await this.transport.exchange({ ...request, retryOnTimeout: true });
    const { member, agentIndex } = this.answeredBy(result, requested, requestedIndex);
    if (!result.ok || member === undefined) {
      const failure = result as TransportFailure;
      return prompts.map(() => failedResponse(member, agentIndex, failure));
    }
    const parsed = parseCompletion(result.bodyText);
    if (!parsed.ok) {
      return prompts.map(() =>
        badResponse(
          member,
          agentIndex,
          parsed.what,
          result.bodyText,
          result.status,
          result.latencyMs,
        ),
      );
    }
    const byIndex = new Map<number, (typeof parsed.choices)[number]>();
    // With `n` > 1 in extraBody, choice index = prompt position × n + j: keep the first of each prompt.
    const perPrompt = Math.max(1, Math.round(parsed.choices.length / prompts.length));
    for (const choice of parsed.choices) {
      const position = Math.floor(choice.index / perPrompt);
      if (!byIndex.has(position)) byIndex.set(position, choice);
    }
    return prompts.map((_, position) => {
      const choice = byIndex.get(position);
      if (choice === undefined) {
        return failedResponse(member, agentIndex, {
          failureKind: 'bad-response',
          error: `${member.label} answered the batch without a choice for prompt ${position} of ${prompts.length}`,
          status: result.status,
          latencyMs: result.latencyMs,
        });
      }
      return successResponse(member, agentIndex, {
        text: choice.text,
        status: result.status,
        latencyMs: result.latencyMs,
        finishReason: choice.finishReason,
      });
    });
  }

  /**
   * The model information, looked up on `member` (`undefined`: the least-loaded agent, with
   * failover); `undefined` when the call's signal fired while waiting for it.
   */
  #modelInfo(
    member: PoolMember | undefined,
    call: ResolvedCallOptions,
  ): ModelInfo | undefined | Promise<ModelInfo | undefined> {
    return (
      this.#family.modelInfo.known ??
      this.#family.modelInfo.get(
        member,
        call.timeoutMs,
        call.signal,
        member === undefined ? this.members : undefined,
      )
    );
  }

  #sizeMaxTokens(info: ModelInfo, promptChars: number, call: ResolvedCallOptions): number {
    const settings = this.#family.settings;
    return sizeMaxTokens(
      call.maxTokens ?? settings.maxTokens,
      info.contextLength,
      promptChars,
      settings.contextBufferTokens,
    );
  }

  protected override get extraBody(): Readonly<Record<string, unknown>> | undefined {
    return this.#family.settings.extraBody;
  }
}

/** A call that stopped waiting for the model information because its caller aborted. */
function abortedResponse(member: PoolMember | undefined, agentIndex: number): AgentResponse {
  return failedResponse(member, agentIndex, {
    failureKind: 'aborted',
    error: `aborted by the caller (${member?.label ?? 'before an agent was picked'})`,
  });
}

function createVLLMRootContext(options: VLLMPoolOptions): PoolContext<VLLMFamily> {
  const settings = resolveVLLMPoolOptions(options);
  return createRootContext(settings.pool, (transport) => ({
    transport,
    userOptions: options,
    settings,
    modelInfo: new ModelInfoCache(
      transport,
      settings.model,
      settings.modelMaxContext,
      DEFAULT_MODEL_MAX_CONTEXT,
    ),
  }));
}
