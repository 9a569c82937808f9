/**
 * One streamed chat completion: an async iterable of text deltas plus a promise of
 * the full `AgentResponse`. Failures (before or during the stream) end the iteration
 * quietly and show up in `response`, like every other pool call.
 */
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors.js';
import { failedResponse, invalidIndexResponse, successResponse } from './agent-response.js';
import {
  describeConnectionError,
  describeStreamError,
  type FailureDescription,
} from './describe-failure.js';
import { parseUsage } from './parse-completion.js';
import type { PoolMember } from './pool-member.js';
import type { PoolTransport } from './pool-transport.js';
import type { TransportRequest, TransportStream } from './transport-attempt.js';
import type { AgentResponse, TokenUsage } from './types.js';

/** What a streaming call needs once its request body is ready. @internal */
export type PreparedStream =
  | { member: undefined; agentIndex: number; size: number }
  | {
      member: PoolMember;
      agentIndex: number;
      size: number;
      request: TransportRequest;
      transport: PoolTransport;
    };

/** A streamed call. Iterate it once; `response` works with or without iterating. */
export class StreamingCall implements AsyncIterable<string> {
  readonly #prepare: () => Promise<PreparedStream>;
  readonly #response: Promise<AgentResponse>;
  #resolveResponse!: (response: AgentResponse) => void;
  #started = false;

  /** @internal created by `VLLMPool.stream`. */
  constructor(prepare: () => Promise<PreparedStream>) {
    this.#prepare = prepare;
    this.#response = new Promise((resolve) => {
      this.#resolveResponse = resolve;
    });
  }

  /**
   * The full response once the stream ended (text is everything streamed). Reading it
   * without iterating consumes the stream in the background. Never rejects.
   */
  get response(): Promise<AgentResponse> {
    if (!this.#started) void this.#drain();
    return this.#response;
  }

  /** Text deltas as they arrive. @throws {InvalidArgumentError} on a second iteration. */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#started) {
      throw new InvalidArgumentError('a streaming call can be iterated only once');
    }
    this.#started = true;
    return this.#run();
  }

  async #drain(): Promise<void> {
    for await (const _delta of this) {
      // Nothing to do with the deltas: the caller only wants the full response.
    }
  }

  async *#run(): AsyncGenerator<string, void, undefined> {
    let response: AgentResponse | undefined;
    let stream: TransportStream | undefined;
    let member: PoolMember | undefined;
    let agentIndex = -1;
    let hedged = false;
    try {
      const prepared = await this.#prepare();
      agentIndex = prepared.agentIndex;
      if (prepared.member === undefined) {
        response = invalidIndexResponse(prepared.agentIndex, prepared.size);
        return;
      }
      member = prepared.member;
      const opened = await prepared.transport.openStream(prepared.request);
      hedged = opened.hedged === true;
      if (opened.member !== undefined && opened.member !== member) {
        // A hedge answered first: the stream is that agent's.
        member = opened.member;
        agentIndex = opened.memberIndex ?? -1;
      }
      if (!opened.ok) {
        response = failedResponse(member, agentIndex, opened);
        return;
      }
      stream = opened;
      const state = new StreamState();
      opened.body.setEncoding('utf8');
      try {
        for await (const chunk of opened.body as AsyncIterable<string>) {
          for (const delta of state.push(chunk)) yield delta;
          if (state.error !== undefined) break;
        }
      } catch (error) {
        const latencyMs = performance.now() - opened.startedAt;
        if (opened.callSignal.timedOut) {
          response = failedResponse(member, agentIndex, {
            failureKind: 'timeout',
            error: `timeout after ${prepared.request.timeoutMs} ms waiting for ${member.label}`,
            latencyMs,
          });
        } else if (opened.callSignal.callerAborted) {
          response = failedResponse(member, agentIndex, {
            failureKind: 'aborted',
            error: `aborted by the caller (${member.label})`,
            latencyMs,
          });
        } else {
          response = failedResponse(member, agentIndex, {
            ...describeConnectionError(error, member, true),
            latencyMs,
          });
        }
        return;
      }
      response = state.toResponse(
        member,
        agentIndex,
        opened.status,
        performance.now() - opened.startedAt,
      );
    } finally {
      if (response === undefined && member !== undefined) {
        // The consumer stopped iterating early: cancel the generation.
        stream?.callSignal.abort(new Error('the consumer stopped reading the stream'));
        response = failedResponse(member, agentIndex, {
          failureKind: 'aborted',
          error: `stream closed by the consumer before it ended (${member.label})`,
        });
      }
      stream?.finish();
      if (hedged && response !== undefined) response.hedged = true;
      this.#resolveResponse(response ?? invalidIndexResponse(agentIndex, 0));
    }
  }
}

/** Server-sent events of a chat completion, parsed incrementally. */
class StreamState {
  content = '';
  reasoning = '';
  finishReason: string | undefined;
  usage: TokenUsage | undefined;
  error: FailureDescription | undefined;
  done = false;
  #buffer = '';

  /** Feed a chunk; returns the text deltas it completed. */
  push(chunk: string): string[] {
    this.#buffer += chunk;
    const deltas: string[] = [];
    let newline = this.#buffer.indexOf('\n');
    while (newline >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      newline = this.#buffer.indexOf('\n');
      if (this.done || !line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') {
        this.done = true;
        continue;
      }
      const delta = this.#event(data);
      if (delta !== '') deltas.push(delta);
    }
    return deltas;
  }

  #event(data: string): string {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(data) as Record<string, unknown>;
    } catch {
      this.error = {
        failureKind: 'bad-response',
        error: `a stream event that is not JSON: ${JSON.stringify(data.slice(0, 200))}`,
      };
      this.done = true;
      return '';
    }
    if (json.error !== undefined || json.object === 'error') {
      // vLLM's in-band error (`data: {"error": {...}}`, ≤ 0.10.0 flat), then `data: [DONE]`.
      this.error = describeStreamError(data);
      this.done = true;
      return '';
    }
    const usage = parseUsage(json.usage);
    if (usage) this.usage = usage;
    const choice = (Array.isArray(json.choices) ? json.choices[0] : undefined) as
      | Record<string, unknown>
      | undefined;
    if (!choice) return '';
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    const delta = choice.delta as Record<string, unknown> | undefined;
    if (!delta) return typeof choice.text === 'string' ? this.#addContent(choice.text) : '';
    if (typeof delta.content === 'string' && delta.content !== '') {
      return this.#addContent(delta.content);
    }
    // `reasoning` since vLLM 0.11.1 (PR #27752), `reasoning_content` before (removed by PR #33402).
    const reasoning = delta.reasoning ?? delta.reasoning_content;
    if (typeof reasoning === 'string') {
      this.reasoning += reasoning;
      return reasoning;
    }
    return '';
  }

  #addContent(text: string): string {
    this.content += text;
    return text;
  }

  toResponse(
    member: PoolMember,
    agentIndex: number,
    status: number,
    latencyMs: number,
  ): AgentResponse {
    if (this.error !== undefined || !this.done) {
      return failedResponse(member, agentIndex, {
        failureKind: this.error?.failureKind ?? 'bad-response',
        error:
          this.error === undefined
            ? `the stream from ${member.label} ended without [DONE]`
            : `${this.error.error} (in the stream from ${member.label})`,
        status,
        latencyMs,
      });
    }
    return successResponse(member, agentIndex, {
      text: this.content !== '' ? this.content : this.reasoning,
      status,
      latencyMs,
      usage: this.usage,
      finishReason: this.finishReason,
    });
  }
}
