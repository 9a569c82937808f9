/**
 * Streaming scatter-gather: results are yielded as they complete, input is pulled lazily, and
 * only the calls in flight are held in memory. `scatterGather` and the `run` command build on it.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { runWindowed } from '../internal/windowed-stream.js';
import { withTailHedge } from '../pool/call-options.js';
import { TailHedge } from '../pool/tail-hedge.js';
import type { AgentResponse, CallOptions, SwarmPool } from '../pool/types.js';
import {
  assertAgentIndex,
  assertLeastLoadedPool,
  assertNonEmptyPool,
  assertSwarmPool,
  type ResolvedPatternOptions,
  resolvePatternOptions,
  type ScatterOptions,
} from './pattern-options.js';

/** One unit of work of a streamed scatter: a prompt plus how to send it. */
export interface ScatterItem {
  /** The caller's identifier, echoed in the result (e.g. a line id of a prompts file). */
  id?: string;
  /** The prompt text. */
  prompt: string;
  /**
   * The agent (pool numbering) that gets this prompt, whatever the `dispatch`.
   * @default the item's position in the input modulo the pool size (round-robin), or the
   *   least-loaded agent (`dispatch: 'least-loaded'`)
   */
  agentIndex?: number;
  /** Options of this call, merged over the stream's options (the signal is always the stream's). */
  callOptions?: Omit<CallOptions, 'signal'>;
}

/** An element of a streamed scatter's input: a bare prompt or a `ScatterItem`. */
export type ScatterInput = string | ScatterItem;

/** Options of `scatterGatherStream`: see `ScatterOptions` (`dispatch`, `hedgeAfterMs`, `window`…). */
export type ScatterGatherStreamOptions = ScatterOptions;

/** One completed call of a streamed scatter. */
export interface ScatterGatherStreamResult {
  /** 0-based position of the item in the input. */
  index: number;
  /** The item's `id`, when it had one. */
  id?: string;
  /** The agent's answer, or the failure as a value. */
  response: AgentResponse;
}

const FUNCTION_NAME = 'scatterGatherStream';

/** An item with its agent resolved: an index, or `undefined` for the least-loaded agent. */
function normalizeItem(
  input: unknown,
  index: number,
  size: number,
  leastLoaded: boolean,
): ScatterItem {
  if (typeof input === 'string') {
    return { prompt: input, agentIndex: leastLoaded ? undefined : index % size };
  }
  if (
    input === null ||
    typeof input !== 'object' ||
    typeof (input as ScatterItem).prompt !== 'string'
  ) {
    throw new InvalidOptionError(
      `${FUNCTION_NAME}: prompts[${index}] must be a string or { id?, prompt: string, agentIndex?, callOptions? }, got ${describeValue(input)}`,
    );
  }
  const item = input as ScatterItem;
  if (item.id !== undefined && typeof item.id !== 'string') {
    throw new InvalidOptionError(
      `${FUNCTION_NAME}: prompts[${index}].id must be a string, got ${describeValue(item.id)}`,
    );
  }
  if (item.agentIndex === undefined && leastLoaded) return { ...item, agentIndex: undefined };
  const agentIndex = item.agentIndex ?? index % size;
  assertAgentIndex(agentIndex, size, `prompts[${index}].agentIndex`, FUNCTION_NAME);
  return { ...item, agentIndex };
}

/**
 * Send every prompt of `prompts` (an array, a generator, or an async iterable such as lines of a
 * file) and yield each result as soon as it completes, with its 0-based input `index`.
 *
 * Item i goes to agent `i % pool.size` (or, with `dispatch: 'least-loaded'`, to the agent with
 * the fewest calls in flight) unless the item names its `agentIndex`. At most
 * `options.window` calls (default: the pool's concurrency) are in flight; the input is pulled one
 * item per free slot, so memory is bounded by the window, never by the length of the input.
 * Failures are yielded as values (`response.success === false`).
 *
 * When `options.signal` aborts, no further item is pulled or sent; calls in flight receive the
 * signal, are yielded as they settle (typically `failureKind: 'aborted'`), and the iteration
 * ends. Items never sent are not yielded. Leaving the loop early (`break`) aborts the calls
 * still in flight. A malformed item throws `InvalidOptionError` from the iteration.
 *
 * @example
 * for await (const { index, response } of scatterGatherStream(pool, readPromptLines())) {
 *   await appendResult(index, response);
 * }
 */
export async function* scatterGatherStream(
  pool: SwarmPool,
  prompts: Iterable<ScatterInput> | AsyncIterable<ScatterInput>,
  options?: ScatterGatherStreamOptions,
): AsyncGenerator<ScatterGatherStreamResult, void, undefined> {
  assertSwarmPool(pool, FUNCTION_NAME);
  const resolved = resolvePatternOptions(pool, options, FUNCTION_NAME);
  if (
    prompts === null ||
    typeof prompts !== 'object' ||
    (typeof (prompts as Iterable<ScatterInput>)[Symbol.iterator] !== 'function' &&
      typeof (prompts as AsyncIterable<ScatterInput>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new InvalidOptionError(
      `${FUNCTION_NAME}: prompts must be an iterable or async iterable, got ${describeValue(prompts)}`,
    );
  }
  const stream = runWindowed<ScatterInput, AgentResponse>(prompts, {
    window: resolved.window,
    signal: resolved.signal,
    ...scatterLaunch(pool, resolved, FUNCTION_NAME),
  });
  for await (const { index, item, result } of stream) {
    const id = typeof item === 'string' ? undefined : item.id;
    yield id === undefined ? { index, response: result } : { index, id, response: result };
  }
}

/**
 * How a scatter sends item `index` (`launch`): to agent `index % pool.size` (a bare prompt), to
 * the agent the item names, or to the least-loaded agent, with the scatter's call options and
 * the window's signal; least-loaded calls without `hedgeAfterMs` hedge adaptively once the
 * input is exhausted (`onExhausted`, tail-hedge.ts). Shared by `scatterGatherStream` and
 * `scatterGather`.
 * @throws InvalidOptionError when `dispatch: 'least-loaded'` meets a pool without `postLeastLoaded`.
 * @internal
 */
export function scatterLaunch(
  pool: SwarmPool,
  resolved: ResolvedPatternOptions,
  functionName: string,
): {
  launch: (input: ScatterInput, index: number, signal: AbortSignal) => Promise<AgentResponse>;
  onExhausted: () => void;
} {
  const leastLoaded = resolved.dispatch === 'least-loaded';
  if (leastLoaded) assertLeastLoadedPool(pool, functionName);
  const tail = leastLoaded ? new TailHedge() : undefined;
  // The options of every bare prompt: one object per window signal (there is one), not one
  // per call. A pool only reads the options it is given.
  let shared: CallOptions | undefined;
  let sharedLeastLoaded: CallOptions | undefined;
  const sharedFor = (signal: AbortSignal): CallOptions => {
    if (shared?.signal !== signal) {
      shared = { ...resolved.callOptions, signal };
      sharedLeastLoaded = withTailHedge(shared, tail);
    }
    return shared;
  };
  const send = (agentIndex: number | undefined, prompt: string, options: CallOptions) =>
    agentIndex === undefined
      ? (pool.postLeastLoaded as NonNullable<SwarmPool['postLeastLoaded']>)(
          prompt,
          options === shared ? (sharedLeastLoaded as CallOptions) : withTailHedge(options, tail),
        )
      : pool.post(agentIndex, prompt, options);
  return {
    launch: (input, index, signal) => {
      assertNonEmptyPool(pool, functionName);
      if (typeof input === 'string') {
        return send(leastLoaded ? undefined : index % pool.size, input, sharedFor(signal));
      }
      const item = normalizeItem(input, index, pool.size, leastLoaded);
      const options =
        item.callOptions === undefined
          ? sharedFor(signal)
          : { ...resolved.callOptions, ...item.callOptions, signal };
      return send(item.agentIndex, item.prompt, options);
    },
    onExhausted: () => tail?.drain(),
  };
}
