/**
 * What a route handler of a simulated agent gets: the parsed request, the agent's
 * behaviour, and the agent's machinery (delays that stop when the client leaves,
 * cutting the connection, the generation queue, the counters behind `/metrics`).
 */
import type { ServerResponse } from 'node:http';
import type { GenerationSlots } from './generation-slots.js';
import type { MockAgentBehavior, MockFailure } from './mock-behavior.js';
import type { VllmError } from './vllm-errors.js';

/** Counters an agent keeps for `/metrics` (vLLM's token and request counters). */
export interface ServingCounters {
  promptTokens: number;
  generationTokens: number;
  /** Finished generations by `finish_reason`. */
  finished: Map<string, number>;
}

/** One request being answered. */
export interface MockExchange {
  readonly agentIndex: number;
  readonly behavior: Readonly<MockAgentBehavior>;
  readonly response: ServerResponse;
  /** The raw request body. */
  readonly bodyText: string;
  /** The failure injected into this request (`none` when it is served normally). */
  readonly failure: MockFailure;
  readonly slots: GenerationSlots;
  readonly counters: ServingCounters;
  /** The agent's `/metrics` (vllm-metrics.ts's AgentMetrics; typed here so that file can import this one). */
  readonly metrics: { serve(exchange: MockExchange): void };
  /** Run `callback` after `delayMs`, unless the client has gone away by then. */
  after(delayMs: number, callback: () => void): void;
  /** Destroy the connection (an injected failure, not a client abort). */
  cut(): void;
  /** Answer with a vLLM error in the agent's dialect. */
  fail(error: VllmError): void;
  /** Answer 200 with a JSON text. */
  json(body: string): void;
}
