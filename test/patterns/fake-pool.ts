/**
 * An in-memory SwarmPool for testing the patterns' scheduling, ordering and abort logic with
 * full control over when each call completes. Calls either answer at once through `answer`, or
 * (with `manual: true`) wait until the test resolves them.
 */
import type { AgentEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import type { AgentResponse, CallOptions, FailureKind, SwarmPool } from '../../src/pool/types.js';

/** One call received by the fake pool. */
export interface FakeCall {
  /** Sequence number over the whole root pool. */
  sequence: number;
  agentIndex: number;
  globalIndex: number;
  prompt: string;
  options: CallOptions | undefined;
  /** Whether the call has settled. */
  readonly settled: boolean;
  /** Settle with a success. */
  respond(text: string): void;
  /** Settle with a failure value. */
  fail(error: string, failureKind?: FailureKind): void;
}

/** What the fake pool answers automatically: a text, or a failure. */
export type FakeAnswer = string | { error: string; failureKind?: FailureKind };

interface RootState {
  endpoints: AgentEndpoint[];
  calls: FakeCall[];
  waiters: ((call: FakeCall) => void)[];
  inFlight: number;
  peakInFlight: number;
  manual: boolean;
  answer: (globalIndex: number, prompt: string) => FakeAnswer;
}

/** Options of the fake pool. */
export interface FakePoolOptions {
  /** Agent count (when `tags` is not given). */
  size?: number;
  /** Tags per agent; its length is the agent count. */
  tags?: Record<string, string>[];
  concurrency?: number;
  maxTokensAggregation?: number;
  /** Calls wait for the test to settle them. */
  manual?: boolean;
  /** Automatic answer of a call. @default `agent <globalIndex>: <prompt>` */
  answer?: (globalIndex: number, prompt: string) => FakeAnswer;
}

export class FakePool implements SwarmPool {
  readonly #root: RootState;
  readonly #globalIndices: number[];
  readonly concurrency: number;
  readonly maxTokensAggregation: number | undefined;

  constructor(options: FakePoolOptions, root?: RootState, globalIndices?: number[]) {
    const tags = options.tags ?? Array.from({ length: options.size ?? 0 }, () => ({}));
    this.#root = root ?? {
      endpoints: tags.map((tagSet, index) => createEndpoint(`agent-${index}`, 8000, tagSet)),
      calls: [],
      waiters: [],
      inFlight: 0,
      peakInFlight: 0,
      manual: options.manual ?? false,
      answer: options.answer ?? ((globalIndex, prompt) => `agent ${globalIndex}: ${prompt}`),
    };
    this.#globalIndices = globalIndices ?? tags.map((_, index) => index);
    this.concurrency = options.concurrency ?? 512;
    this.maxTokensAggregation = options.maxTokensAggregation;
  }

  get size(): number {
    return this.#globalIndices.length;
  }

  get endpoints(): readonly AgentEndpoint[] {
    return this.#globalIndices.map((index) => this.#root.endpoints[index] as AgentEndpoint);
  }

  /** Every call received by the root pool and its sub-pools, in order. */
  get calls(): readonly FakeCall[] {
    return this.#root.calls;
  }

  get inFlight(): number {
    return this.#root.inFlight;
  }

  get peakInFlight(): number {
    return this.#root.peakInFlight;
  }

  /** The call with this sequence number, once it has been made. */
  call(sequence: number): Promise<FakeCall> {
    const existing = this.#root.calls[sequence];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const waiter = (call: FakeCall): void => {
        if (call.sequence === sequence) {
          this.#root.waiters.splice(this.#root.waiters.indexOf(waiter), 1);
          resolve(call);
        }
      };
      this.#root.waiters.push(waiter);
    });
  }

  post(agentIndex: number, prompt: string, options?: CallOptions): Promise<AgentResponse> {
    const root = this.#root;
    const globalIndex = this.#globalIndices[agentIndex];
    if (globalIndex === undefined) {
      return Promise.resolve({
        success: false,
        text: '',
        error: `agent index ${agentIndex} out of range`,
        failureKind: 'invalid-index',
        agentIndex,
        globalIndex: -1,
      });
    }
    return new Promise<AgentResponse>((resolve) => {
      let settled = false;
      const settle = (response: AgentResponse): void => {
        if (settled) return;
        settled = true;
        root.inFlight -= 1;
        options?.signal?.removeEventListener('abort', onAbort);
        resolve(response);
      };
      const onAbort = (): void =>
        settle({
          success: false,
          text: '',
          error: 'aborted',
          failureKind: 'aborted',
          agentIndex,
          globalIndex,
        });
      const call: FakeCall = {
        sequence: root.calls.length,
        agentIndex,
        globalIndex,
        prompt,
        options,
        get settled() {
          return settled;
        },
        respond: (text) => settle({ success: true, text, agentIndex, globalIndex }),
        fail: (error, failureKind = 'agent-error') =>
          settle({ success: false, text: '', error, failureKind, agentIndex, globalIndex }),
      };
      root.calls.push(call);
      root.inFlight += 1;
      root.peakInFlight = Math.max(root.peakInFlight, root.inFlight);
      if (options?.signal?.aborted) {
        onAbort();
      } else {
        options?.signal?.addEventListener('abort', onAbort, { once: true });
      }
      for (const waiter of [...root.waiters]) waiter(call);
      if (!root.manual && !settled) {
        const answer = root.answer(globalIndex, prompt);
        if (typeof answer === 'string') call.respond(answer);
        else call.fail(answer.error, answer.failureKind);
      }
    });
  }

  sendAll(prompts: readonly string[], options?: CallOptions): Promise<AgentResponse[]> {
    return Promise.all(
      prompts.map((prompt, index) => this.post(index % this.size, prompt, options)),
    );
  }

  broadcastPrompt(prompt: string, options?: CallOptions): Promise<AgentResponse[]> {
    return Promise.all(this.#globalIndices.map((_, index) => this.post(index, prompt, options)));
  }

  select(indices: readonly number[]): FakePool {
    return new FakePool(
      { concurrency: this.concurrency, maxTokensAggregation: this.maxTokensAggregation },
      this.#root,
      indices.map((index) => this.#globalIndices[index] as number),
    );
  }

  byTag(key: string, value: string): FakePool {
    const indices = this.endpoints.flatMap((endpoint, index) =>
      endpoint.tags[key] === value ? [index] : [],
    );
    return this.select(indices);
  }

  sample(n: number): FakePool {
    return this.select(this.#globalIndices.slice(0, n).map((_, index) => index));
  }

  slice(start: number, end?: number): FakePool {
    const indices = this.#globalIndices.map((_, index) => index).slice(start, end);
    return this.select(indices);
  }
}
