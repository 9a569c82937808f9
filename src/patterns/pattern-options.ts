/**
 * Options shared by every pattern, their validation, and the checks on a pattern's arguments.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { CallOptions, DispatchPolicy, SwarmPool } from '../pool/types.js';

/**
 * Options every pattern accepts: the per-call options (`maxTokens`, `timeoutMs`, `extraBody`,
 * `signal`) passed to each call, plus the scheduling window.
 */
export interface PatternOptions extends CallOptions {
  /**
   * Maximum calls this pattern keeps in flight; the next call starts as soon as any finishes.
   * A positive integer.
   * @default the pool's `concurrency`
   */
  window?: number;
}

/**
 * Options of the patterns that spread different prompts over the agents (`scatterGather`,
 * `mapGather`, `scatterGatherStream`): the pattern options plus how each prompt's agent
 * is chosen.
 */
export interface ScatterOptions extends PatternOptions {
  /**
   * `'round-robin'`: prompt i to agent i % size (the Python original's rule).
   * `'least-loaded'`: each prompt to the agent with the fewest calls in flight (counted over
   * the whole pool family; agents whose circuit breaker is open are skipped; ties spread),
   * sent at once to another agent when it cannot connect; `agentIndex`/`globalIndex` of a
   * response name the agent that answered. Answers stay in input order either way.
   * @default 'round-robin'
   */
  dispatch?: DispatchPolicy;
  /**
   * Hedge each call: when no response headers arrived this many milliseconds after it was
   * sent, the same prompt also goes to another agent (least loaded, breaker-aware, within
   * the concurrency limit); the first success wins, the other call is aborted at once, and
   * the response has `hedged: true`. Not set, `dispatch: 'least-loaded'` hedges adaptively
   * at the tail: once every prompt is sent, a call with no headers after max(250 ms, 4 × the
   * scatter's median time to headers) goes to a least-loaded agent with a free slot too.
   * `0` or `false`: never. @default undefined (round-robin: never; least-loaded: adaptive)
   */
  hedgeAfterMs?: number | false;
}

/** A pattern's options after validation. */
export interface ResolvedPatternOptions {
  /** Maximum calls in flight. */
  window: number;
  /** How each prompt's agent is chosen (`'round-robin'` unless the options say otherwise). */
  dispatch: DispatchPolicy;
  /** The caller's signal, if any. */
  signal: AbortSignal | undefined;
  /** Options of each call, without the signal (the pattern passes its own, linked one). */
  callOptions: Omit<CallOptions, 'signal'>;
}

function fail(functionName: string, message: string): never {
  throw new InvalidOptionError(`${functionName}: ${message}`);
}

/** Check that a value is a positive integer; `name` is how the message refers to it. */
export function assertPositiveInteger(value: unknown, name: string, functionName: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    fail(functionName, `${name} must be a positive integer, got ${describeValue(value)}`);
  }
}

/** Check that `pool` looks like a `SwarmPool` (has `post` and a numeric `size`). */
export function assertSwarmPool(pool: unknown, functionName: string): asserts pool is SwarmPool {
  const candidate = pool as Partial<SwarmPool> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.post !== 'function' ||
    typeof candidate.size !== 'number'
  ) {
    fail(
      functionName,
      `pool must be a SwarmPool (VLLMPool, AgentPool or a sub-pool), got ${describeValue(pool)}`,
    );
  }
}

/** Check that the pool has at least one agent when work must be sent. */
export function assertNonEmptyPool(pool: { size: number }, functionName: string): void {
  if (pool.size < 1) fail(functionName, 'the pool has no agents');
}

/** Check that `value` is a string; `name` is how the message refers to it. */
export function assertString(
  value: unknown,
  name: string,
  functionName: string,
): asserts value is string {
  if (typeof value !== 'string') {
    fail(functionName, `${name} must be a string, got ${describeValue(value)}`);
  }
}

/** Check that `value` is an array of strings. */
export function assertStringArray(
  value: unknown,
  name: string,
  functionName: string,
): asserts value is readonly string[] {
  if (!Array.isArray(value))
    fail(functionName, `${name} must be an array, got ${describeValue(value)}`);
  value.forEach((element: unknown, index: number) => {
    assertString(element, `${name}[${index}]`, functionName);
  });
}

/** Check that `agentIndex` is an integer in `[0, size)`. */
export function assertAgentIndex(
  agentIndex: unknown,
  size: number,
  name: string,
  functionName: string,
): void {
  if (
    typeof agentIndex !== 'number' ||
    !Number.isInteger(agentIndex) ||
    agentIndex < 0 ||
    agentIndex >= size
  ) {
    fail(
      functionName,
      `${name} must be an integer in [0, ${size}) (the pool has ${size} agent(s)), got ${describeValue(agentIndex)}`,
    );
  }
}

/** Check that `value` is undefined or a function. */
export function assertOptionalFunction(value: unknown, name: string, functionName: string): void {
  if (value !== undefined && typeof value !== 'function') {
    fail(functionName, `${name} must be a function, got ${describeValue(value)}`);
  }
}

/**
 * Validate a pattern's options without mutating them. The window defaults to the pool's
 * `concurrency` (falling back to 1 if the pool reports none).
 */
export function resolvePatternOptions(
  pool: { concurrency: number },
  options: PatternOptions | undefined,
  functionName: string,
): ResolvedPatternOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') {
    fail(functionName, `options must be an object, got ${describeValue(options)}`);
  }
  const { window, signal, dispatch, ...callOptions } = options as ScatterOptions;
  if (window !== undefined) assertPositiveInteger(window, 'window', functionName);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail(functionName, `signal must be an AbortSignal, got ${describeValue(signal)}`);
  }
  if (dispatch !== undefined && dispatch !== 'round-robin' && dispatch !== 'least-loaded') {
    fail(
      functionName,
      `dispatch must be 'round-robin' or 'least-loaded', got ${describeValue(dispatch)}`,
    );
  }
  const hedgeAfterMs = callOptions.hedgeAfterMs;
  if (
    hedgeAfterMs !== undefined &&
    hedgeAfterMs !== false &&
    (typeof hedgeAfterMs !== 'number' || !Number.isFinite(hedgeAfterMs) || hedgeAfterMs < 0)
  ) {
    fail(
      functionName,
      `hedgeAfterMs must be a finite number of milliseconds > 0, or 0 / false for never, got ${describeValue(hedgeAfterMs)}`,
    );
  }
  const poolConcurrency =
    Number.isFinite(pool.concurrency) && pool.concurrency >= 1 ? Math.floor(pool.concurrency) : 1;
  return {
    window: window ?? poolConcurrency,
    dispatch: dispatch ?? 'round-robin',
    signal,
    callOptions,
  };
}

/**
 * Check that `pool` can take `dispatch: 'least-loaded'` (it has `postLeastLoaded`).
 * @throws InvalidOptionError otherwise.
 */
export function assertLeastLoadedPool(
  pool: SwarmPool,
  functionName: string,
): asserts pool is SwarmPool & Required<Pick<SwarmPool, 'postLeastLoaded'>> {
  if (typeof pool.postLeastLoaded !== 'function') {
    fail(
      functionName,
      "dispatch 'least-loaded' needs a pool with postLeastLoaded (VLLMPool, AgentPool or a sub-pool)",
    );
  }
}
