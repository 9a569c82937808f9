/**
 * The same prompt sent `count` times (call i to agent i % size) in a sliding window, with
 * a decision after every response: once `stop` says so, nothing more is sent and the calls
 * still running are aborted (the agents see their connections close and stop generating).
 * `broadcast`'s `stopWhen` and `consensus` are built on it.
 */
import { linkAbortController } from '../internal/linked-abort-controller.js';
import { runWindowed } from '../internal/windowed-stream.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import type { ResolvedPatternOptions } from './pattern-options.js';
import { NOT_SENT_ABORTED, unsentResponse } from './unsent-response.js';

/** What a stoppable fan-out did. */
export interface StoppableFanOutResult {
  /** One response per call, in call order; calls never sent are failed `aborted` responses. */
  responses: AgentResponse[];
  /** Whether `stop` ended it before every call was answered. */
  stoppedEarly: boolean;
  /** Calls the early stop aborted in flight or never sent. */
  aborted: number;
}

/** The error of a call the early stop did not send. */
export const NOT_SENT_STOPPED = 'not sent: the early stop had decided before this call started';

/**
 * Send `prompt` `count` times, call i to agent `i % pool.size`, at most `resolved.window` at
 * once; after each response (in completion order) call `stop(response, index)`, and once it
 * returns true abort the rest.
 */
export async function stoppableFanOut(
  pool: SwarmPool,
  prompt: string,
  count: number,
  resolved: ResolvedPatternOptions,
  stop: (response: AgentResponse, index: number) => boolean,
): Promise<StoppableFanOutResult> {
  const size = pool.size;
  const responses = new Array<AgentResponse | undefined>(count);
  const { controller, dispose } = linkAbortController(resolved.signal);
  let stoppedEarly = false;
  let aborted = 0;
  function* indices(): Generator<number> {
    for (let index = 0; index < count; index++) yield index;
  }
  try {
    const stream = runWindowed<number, AgentResponse>(indices(), {
      window: resolved.window,
      signal: controller.signal,
      launch: (index, _position, signal) =>
        pool.post(index % size, prompt, { ...resolved.callOptions, signal }),
    });
    for await (const { item: index, result: response } of stream) {
      responses[index] = response;
      if (stoppedEarly) {
        if (response.failureKind === 'aborted') aborted++;
        continue;
      }
      // Cut by the caller: what is left to come are aborts, not answers to decide on.
      if (resolved.signal?.aborted) continue;
      if (stop(response, index)) {
        stoppedEarly = true;
        controller.abort(new Error('stopped early: the outcome was decided'));
      }
    }
  } finally {
    dispose();
  }
  const filled = Array.from({ length: count }, (_, index) => {
    const response = responses[index];
    if (response !== undefined) return response;
    if (stoppedEarly) aborted++;
    return unsentResponse(index % size, stoppedEarly ? NOT_SENT_STOPPED : NOT_SENT_ABORTED);
  });
  return { responses: filled, stoppedEarly, aborted };
}
