/**
 * The contract between pools and everything built on them (patterns, the CLI).
 * Patterns talk to pools only through these members.
 */
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';

import type { FailureKind } from './failure-kind.js';

export type { FailureKind } from './failure-kind.js';

/** Token counts reported by the agent. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** The outcome of one call to one agent. Failures are values, never exceptions. */
export interface AgentResponse {
  /** Whether the agent produced an answer. */
  success: boolean;
  /** The answer text; `''` on failure. */
  text: string;
  /** What went wrong, in words a person can act on (only when `success` is false). */
  error?: string;
  /** Category of the failure (only when `success` is false). */
  failureKind?: FailureKind;
  /** Index of the agent within the pool that answered (a sub-pool's own numbering). */
  agentIndex: number;
  /** Index of the agent in the hostfile, kept through any chain of sub-pools. */
  globalIndex: number;
  /** Wall time from sending to the full answer, in milliseconds. */
  latencyMs?: number;
  /** HTTP status of the agent's (or proxy's) answer, when one arrived. */
  status?: number;
  /** Token usage, when the agent reported it. */
  usage?: TokenUsage;
  /** `finish_reason` of the completion, e.g. `stop` or `length`. */
  finishReason?: string;
  /**
   * `true` when the call was hedged: no answer had started after `hedgeAfterMs` (or, in a
   * least-loaded fan-out, after its adaptive delay), so the same prompt also went to
   * another agent. `agentIndex` names the agent whose answer
   * this is (the other call was aborted).
   */
  hedged?: boolean;
}

/**
 * How a fan-out chooses the agent of each prompt. `round-robin`: prompt i to agent
 * i % size (the Python original's rule). `least-loaded`: each prompt to the agent of the
 * pool with the fewest calls in flight (counted over the whole pool family; agents whose
 * circuit breaker is open are skipped), sent again to another agent when it cannot connect.
 */
export type DispatchPolicy = 'round-robin' | 'least-loaded';

/** Options of a single call. */
export interface CallOptions {
  /** Upper bound on generated tokens for this call. */
  maxTokens?: number;
  /** Timeout of this call in milliseconds (also sent to the proxy as `X-Timeout`). */
  timeoutMs?: number;
  /** Aborts the call; an aborted call resolves to a failed response with `failureKind: 'aborted'`. */
  signal?: AbortSignal;
  /** Extra JSON fields merged into the request body (sampling parameters, vLLM extras). */
  extraBody?: Record<string, unknown>;
  /**
   * Hedge the call: when no response headers arrived this many milliseconds after it was
   * sent, send the same prompt to another agent of the pool too (the least loaded whose
   * circuit breaker is closed, within the concurrency limit). The first success wins and
   * the other call is aborted at once; the response has `hedged: true`. A streamed call is
   * hedged only before its response started. `0` or `false`: never, also not the adaptive
   * tail hedge that least-loaded fan-outs (`dispatch: 'least-loaded'` of `sendAll` and the
   * scatter patterns) apply when this is not set (docs/pools.md, "Tail hedging").
   * @default undefined (never; adaptive in a least-loaded fan-out)
   */
  hedgeAfterMs?: number | false;
  /** Most extra agents one call is hedged to (each after another `hedgeAfterMs`). @default 1 */
  maxHedges?: number;
}

/** Options of `sendAll`: the call options plus how prompts are spread. */
export interface SendAllOptions extends CallOptions {
  /** How each prompt's agent is chosen. @default 'round-robin' */
  dispatch?: DispatchPolicy;
}

/** The members every pool offers; patterns depend on this and nothing else. */
export interface SwarmPool {
  /** Number of agents in this pool. */
  readonly size: number;
  /** The agents of this pool, in pool order. */
  readonly endpoints: readonly AgentEndpoint[];
  /** Maximum simultaneous requests, shared with every sub-pool of the same root pool. */
  readonly concurrency: number;
  /** Token budget for aggregation steps (reducers, supervisors), when the pool has one. */
  readonly maxTokensAggregation?: number;
  /** Send one prompt to the agent at `agentIndex` (pool numbering). Never rejects for agent failures. */
  post(agentIndex: number, prompt: string, options?: CallOptions): Promise<AgentResponse>;
  /**
   * Send one prompt to the least-loaded agent of the pool (fewest calls in flight, open
   * circuit breakers skipped), failing over to another agent when it cannot connect.
   * `agentIndex` of the response names the agent that answered. Pools without it cannot
   * take `dispatch: 'least-loaded'`.
   */
  postLeastLoaded?(prompt: string, options?: CallOptions): Promise<AgentResponse>;
  /** Prompt i goes to agent i % size (or the least loaded, see `dispatch`); results in input order. */
  sendAll(prompts: readonly string[], options?: SendAllOptions): Promise<AgentResponse[]>;
  /** The same prompt to every agent; results in agent order. */
  broadcastPrompt(prompt: string, options?: CallOptions): Promise<AgentResponse[]>;
  /** Agents whose tag `key` equals `value`. */
  byTag(key: string, value: string): SwarmPool;
  /** `n` agents chosen at random (without replacement). */
  sample(n: number): SwarmPool;
  /** The agents at these pool indices, in the given order. */
  select(indices: readonly number[]): SwarmPool;
  /** Agents `start` (inclusive) to `end` (exclusive), like `Array.prototype.slice`. */
  slice(start: number, end?: number): SwarmPool;
  /**
   * Batch mode (a `VLLMPool` created with `batch: true`): patterns that scatter distinct
   * prompts send each agent's share with `postBatch` instead of one `post` per prompt.
   */
  readonly batch?: boolean;
  /** In batch mode, at most this many prompts per `postBatch` (`Number.MAX_SAFE_INTEGER`: a whole share). */
  readonly batchSize?: number;
  /**
   * Send `prompts` to the agent at `agentIndex` as one batch request; one response per
   * prompt, in order. Never rejects for agent failures.
   */
  postBatch?(
    agentIndex: number,
    prompts: readonly string[],
    options?: CallOptions,
  ): Promise<AgentResponse[]>;
  /**
   * `postBatch` to the least-loaded agent (a batch counts as one call in flight; open
   * circuit breakers skipped), failing over to another agent when it cannot connect:
   * what batch mode does with `dispatch: 'least-loaded'`.
   */
  postBatchLeastLoaded?(
    prompts: readonly string[],
    options?: CallOptions,
  ): Promise<AgentResponse[]>;
}

/** The result of one embedding call. */
export interface EmbeddingResponse {
  success: boolean;
  embedding?: number[];
  error?: string;
  failureKind?: FailureKind;
  agentIndex: number;
  globalIndex: number;
  latencyMs?: number;
}

/** Options of a single embedding call. */
export interface EmbeddingCallOptions {
  /** Timeout of this call in milliseconds (also sent to the proxy as `X-Timeout`). */
  timeoutMs?: number;
  /** Aborts the call; an aborted call resolves to a failed response with `failureKind: 'aborted'`. */
  signal?: AbortSignal;
  /** Extra JSON fields merged into the request body. */
  extraBody?: Record<string, unknown>;
}

/** The members of an embedding pool that patterns use (`scatterGatherEmbeddings`). */
export interface EmbeddingSwarmPool {
  /** Number of agents in this pool. */
  readonly size: number;
  /** Maximum simultaneous requests, shared with every sub-pool of the same root pool. */
  readonly concurrency: number;
  /** Embed one text with the agent at `agentIndex` (pool numbering). Never rejects for agent failures. */
  embedOne(
    agentIndex: number,
    text: string,
    options?: EmbeddingCallOptions,
  ): Promise<EmbeddingResponse>;
  /** Text i goes to agent i % size; results in input order. */
  embedAll(texts: readonly string[], options?: EmbeddingCallOptions): Promise<EmbeddingResponse[]>;
}
