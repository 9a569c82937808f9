/**
 * `AgentPool`: a concurrency-limited client of many agents speaking the simple
 * `/generate` protocol (`{"prompt"}` → `{"response"}` or `{"text"}`), directly or
 * through `aurora-swarm-proxy`.
 */
import { InvalidArgumentError } from '../errors.js';
import {
  badResponse,
  failedResponse,
  invalidIndexResponse,
  successResponse,
} from './agent-response.js';
import {
  assertPrompt,
  assertPrompts,
  type ResolvedCallOptions,
  resolveCallOptions,
  resolveDispatch,
} from './call-options.js';
import { createRootContext, PoolBase, type PoolContext } from './pool-base.js';
import type { PoolMember } from './pool-member.js';
import {
  DEFAULT_AGENT_POOL_TIMEOUT_MS,
  type PoolEnvironment,
  type PoolOptions,
  type ResolvedPoolOptions,
  resolvePoolOptions,
} from './pool-options.js';
import { TailHedge } from './tail-hedge.js';
import type { TransportFailure } from './transport-attempt.js';
import type { AgentResponse, CallOptions, SendAllOptions, SwarmPool } from './types.js';

/** Options of {@link AgentPool}: the common pool options (timeout default 120 s). */
export interface AgentPoolOptions extends PoolOptions {}

/**
 * Validate `AgentPool` options, applying defaults and the `AURORA_SWARM_PROXY_URL` /
 * `AURORA_SWARM_PROXY_TOKEN` fallbacks. Pure apart from reading `env`.
 * @throws {InvalidOptionError}
 */
export function resolveAgentPoolOptions(
  options: AgentPoolOptions,
  env: PoolEnvironment = process.env,
): ResolvedPoolOptions {
  return resolvePoolOptions(options, DEFAULT_AGENT_POOL_TIMEOUT_MS, env);
}

/**
 * A pool of agents reached over HTTP. Calls never reject because an agent failed:
 * failures are responses with `success: false`. Only misuse throws.
 *
 * @example
 * await using pool = new AgentPool({ endpoints: parseHostfile('hostfile.txt') });
 * const answers = await pool.sendAll(['a', 'b', 'c']);
 */
export class AgentPool extends PoolBase implements SwarmPool {
  /**
   * @param options the pool options.
   * @param context internal: used by sub-pool selection; never pass it.
   */
  constructor(options: AgentPoolOptions, context?: PoolContext) {
    super(
      context ??
        createRootContext(resolveAgentPoolOptions(options), (transport) => ({
          transport,
          userOptions: options,
        })),
    );
  }

  /** Token budget for aggregation steps; `undefined` for a plain `AgentPool`. */
  get maxTokensAggregation(): number | undefined {
    return undefined;
  }

  /**
   * Send one prompt to the agent at `agentIndex` (this pool's numbering). An index
   * outside the pool gives a failed response with `failureKind: 'invalid-index'`.
   * @throws {InvalidOptionError} when `prompt` or `options` have a wrong type.
   * @throws {PoolClosedError} after the root pool was closed.
   */
  async post(agentIndex: number, prompt: string, options?: CallOptions): Promise<AgentResponse> {
    this.assertOpen();
    assertPrompt(prompt);
    const call = resolveCallOptions(options, this.timeoutMs);
    const member = Number.isInteger(agentIndex) ? this.members[agentIndex] : undefined;
    if (member === undefined) return invalidIndexResponse(agentIndex, this.size);
    return this.callAgent(member, agentIndex, prompt, call);
  }

  /**
   * Send one prompt to the agent of this pool with the fewest calls in flight (counted over
   * the pool family; agents whose circuit breaker is open are skipped, ties spread). When
   * that agent cannot be reached the prompt goes to another one at once, within
   * `maxRetries`. `agentIndex`/`globalIndex` of the response name the agent that answered.
   * @throws {InvalidOptionError} when `prompt` or `options` have a wrong type.
   * @throws {InvalidArgumentError} when the pool has no agents.
   * @throws {PoolClosedError} after the root pool was closed.
   */
  async postLeastLoaded(prompt: string, options?: CallOptions): Promise<AgentResponse> {
    this.assertOpen();
    assertPrompt(prompt);
    const call = resolveCallOptions(options, this.timeoutMs);
    this.#assertNotEmpty(1);
    return this.callAgent(undefined, -1, prompt, call);
  }

  /**
   * Prompt i goes to agent i % size (`dispatch: 'round-robin'`, the default), or each to the
   * least-loaded agent (`dispatch: 'least-loaded'`, see {@link postLeastLoaded}); results in
   * input order.
   */
  async sendAll(prompts: readonly string[], options?: SendAllOptions): Promise<AgentResponse[]> {
    this.assertOpen();
    assertPrompts(prompts);
    const call = resolveCallOptions(options, this.timeoutMs);
    const dispatch = resolveDispatch(options?.dispatch, 'sendAll');
    this.#assertNotEmpty(prompts.length);
    if (dispatch === 'least-loaded') {
      // Without hedgeAfterMs, calls hedge adaptively once the last prompt is handed out.
      const tail = call.hedgeAfterMs === undefined ? new TailHedge() : undefined;
      const tailCall = tail === undefined ? call : { ...call, tailHedge: tail };
      let handedOut = 0;
      return this.fanOut(prompts.length, (index) => {
        if (++handedOut === prompts.length) tail?.drain();
        return this.callAgent(undefined, -1, prompts[index]!, tailCall);
      });
    }
    const members = this.members;
    const size = members.length;
    return this.fanOut(prompts.length, (index) =>
      this.callAgent(members[index % size]!, index % size, prompts[index]!, call),
    );
  }

  #assertNotEmpty(promptCount: number): void {
    if (promptCount > 0 && this.size === 0) {
      throw new InvalidArgumentError(
        `cannot send ${promptCount} prompt(s) to an empty pool (did byTag or slice select no agents?)`,
      );
    }
  }

  /** The same prompt to every agent; results in agent order. */
  async broadcastPrompt(prompt: string, options?: CallOptions): Promise<AgentResponse[]> {
    this.assertOpen();
    assertPrompt(prompt);
    const call = resolveCallOptions(options, this.timeoutMs);
    const members = this.members;
    return this.fanOut(members.length, (index) =>
      this.callAgent(members[index]!, index, prompt, call),
    );
  }

  /**
   * One request to one agent (`member` at `agentIndex`, or with `undefined` and -1 the
   * least-loaded agent); overridden by pools that speak another protocol.
   */
  protected async callAgent(
    requested: PoolMember | undefined,
    requestedIndex: number,
    prompt: string,
    call: ResolvedCallOptions,
  ): Promise<AgentResponse> {
    const fields: Record<string, unknown> = { prompt };
    if (call.maxTokens !== undefined) fields.max_tokens = call.maxTokens;
    const result = await this.postJson(requested, '/generate', fields, call);
    const { member, agentIndex } = this.answeredBy(result, requested, requestedIndex);
    if (!result.ok || member === undefined) {
      return failedResponse(member, agentIndex, result as TransportFailure);
    }
    let json: unknown;
    try {
      json = JSON.parse(result.bodyText);
    } catch {
      return badResponse(
        member,
        agentIndex,
        'a body that is not JSON',
        result.bodyText,
        result.status,
        result.latencyMs,
        result.hedged,
      );
    }
    const text = generatedText(json);
    if (text === undefined) {
      return badResponse(
        member,
        agentIndex,
        'no "response" or "text" field',
        result.bodyText,
        result.status,
        result.latencyMs,
        result.hedged,
      );
    }
    return successResponse(member, agentIndex, {
      text,
      status: result.status,
      latencyMs: result.latencyMs,
      hedged: result.hedged,
    });
  }
}

function generatedText(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return undefined;
  const record = json as Record<string, unknown>;
  for (const value of [record.response, record.text]) {
    if (typeof value === 'string') return value;
    // vLLM's legacy /generate answers {"text": [prompt + completion]}.
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}
