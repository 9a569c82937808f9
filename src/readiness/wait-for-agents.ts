/**
 * Wait until enough agents of a hostfile answer `GET /health` with 200: what a job script
 * does between submitting vLLM servers and starting the proxy or a run.
 */
import { InvalidOptionError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { CallSignal } from '../internal/call-signal.js';
import { describeValue } from '../internal/describe-value.js';
import { sleep } from '../internal/sleep.js';
import { Agent } from '../internal/undici-agent.js';
import { errorCode } from '../pool/describe-failure.js';

/** Seconds `wait` keeps trying, counted from its start. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 600;
/** Seconds between two rounds of probes. */
export const DEFAULT_WAIT_INTERVAL_SECONDS = 5;
/** Seconds one probe may take (connect included) before the agent counts as not ready. */
export const DEFAULT_PROBE_TIMEOUT_SECONDS = 5;
/** Probes in flight at once. */
export const DEFAULT_PROBE_CONCURRENCY = 256;

/** Options of {@link waitForAgents}. */
export interface WaitForAgentsOptions {
  /** The agents, in hostfile order. */
  endpoints: readonly AgentEndpoint[];
  /** How many must be ready; an integer from 1 to the number of agents. */
  minReady: number;
  /** Give up this many milliseconds after the start, whatever the agents do (may be Infinity
   * when `firstReadyTimeoutMs` and `healthTimeoutMs` bound the wait). */
  timeoutMs: number;
  /** Give up if no agent is ready this many milliseconds after the start. @default no limit */
  firstReadyTimeoutMs?: number;
  /**
   * Once the first agent is ready, wait at most this many milliseconds more for the others
   * (the Python `wait_for_vllm_servers.py --health-timeout`). @default no limit
   */
  healthTimeoutMs?: number;
  /**
   * Keep probing until every agent is ready (or a timeout), even once `minReady` are: then
   * `minReady` is only the minimum the result is checked against, as in the Python script.
   * @default false
   */
  waitForAll?: boolean;
  /** Milliseconds between the end of a round of probes and the next one. */
  intervalMs: number;
  /** Milliseconds one probe may take (capped by the time left). */
  probeTimeoutMs: number;
  /** Probes in flight at once. @default 256 */
  concurrency?: number;
  /** Stops waiting (the result then has `aborted: true`). */
  signal?: AbortSignal;
  /** Called after every round with the number of agents ready so far. */
  onRound?(ready: number, elapsedMs: number): void;
  /** Called after every probe: `detail` is `HTTP 200` or why the agent is not ready. */
  onProbe?(index: number, ready: boolean, detail: string): void;
}

/** What {@link waitForAgents} found. */
export interface WaitForAgentsResult {
  /** The agents that answered, in hostfile order (tags kept). */
  ready: AgentEndpoint[];
  /** Their hostfile indices, ascending. */
  readyIndices: number[];
  /** Whether `minReady` agents were ready before the timeout. */
  targetMet: boolean;
  /** Whether the signal stopped the wait. */
  aborted: boolean;
  /** Milliseconds since the start. */
  elapsedMs: number;
  /**
   * The agents never ready, in hostfile order, with why their last probe failed. A probe the
   * deadline cut short (less than `probeTimeoutMs` was left) that timed out says nothing about
   * the agent: it does not replace an earlier probe's reason (a refused connection stays so).
   */
  notReady: Array<{ index: number; endpoint: AgentEndpoint; lastError: string }>;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** Why a probe failed, in words. */
function probeFailure(error: unknown, timedOut: boolean, timeoutMs: number): string {
  const code = errorCode(error);
  if (timedOut || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return `no answer within ${Math.round(timeoutMs) / 1000}s`;
  }
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  const message = error instanceof Error ? error.message : String(error);
  return code === undefined ? message : `${code}: ${message}`;
}

/**
 * Probe the agent's `GET /health` within `timeoutMs`: `HTTP 200` when ready, else why not.
 * Never rejects. Probes share one listener on `signal` (CallSignal), however many run.
 */
async function probe(
  dispatcher: Agent,
  endpoint: AgentEndpoint,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ ready: boolean; detail: string; timedOut: boolean }> {
  const callSignal = new CallSignal(timeoutMs, signal);
  try {
    const response = await dispatcher.request({
      origin: endpoint.url,
      path: '/health',
      method: 'GET',
      signal: callSignal.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.dump();
    return {
      ready: response.statusCode === 200,
      detail: `HTTP ${response.statusCode}`,
      timedOut: false,
    };
  } catch (error) {
    if (callSignal.callerAborted) return { ready: false, detail: 'stopped', timedOut: false };
    const detail = probeFailure(error, callSignal.timedOut, timeoutMs);
    return { ready: false, detail, timedOut: callSignal.timedOut };
  } finally {
    callSignal.dispose();
  }
}

/**
 * Probe every agent's `/health` concurrently, round after round, until `minReady` answer
 * 200 or `timeoutMs` has passed since the start. An agent that answered once counts as
 * ready from then on. When the target is met the round in progress is finished (each
 * probe is bounded by `probeTimeoutMs`), so every agent ready by then is listed; hung
 * hosts cannot stretch the wait past the timeout.
 * @throws {InvalidOptionError} for a `minReady` outside [1, endpoints.length].
 */
export async function waitForAgents(options: WaitForAgentsOptions): Promise<WaitForAgentsResult> {
  const { endpoints, minReady, timeoutMs, intervalMs, probeTimeoutMs, signal } = options;
  if (!Number.isInteger(minReady) || minReady < 1 || minReady > endpoints.length) {
    throw new InvalidOptionError(
      `minReady must be an integer from 1 to the number of agents (${endpoints.length}), got ${describeValue(minReady)}`,
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_PROBE_CONCURRENCY;
  const startedAt = performance.now();
  let deadline = startedAt + Math.min(timeoutMs, options.firstReadyTimeoutMs ?? Infinity);
  const ready = new Array<boolean>(endpoints.length).fill(false);
  const lastErrors = new Array<string | undefined>(endpoints.length).fill(undefined);
  let readyCount = 0;
  const noteReady = (index: number) => {
    ready[index] = true;
    readyCount++;
    if (readyCount === 1) {
      // From the first ready agent on, the health timeout counts (and no longer the first one's).
      const overall = startedAt + timeoutMs;
      const health = performance.now() + (options.healthTimeoutMs ?? Infinity);
      deadline = Math.min(overall, health);
    }
  };
  const done = () =>
    readyCount === endpoints.length || (!options.waitForAll && readyCount >= minReady);
  const dispatcher = new Agent({
    connect: { timeout: probeTimeoutMs },
    keepAliveTimeout: Math.max(1, intervalMs * 2),
    connections: 1,
  });
  try {
    for (;;) {
      const pending = endpoints.flatMap((_endpoint, index) => (ready[index] ? [] : [index]));
      let next = 0;
      const worker = async () => {
        while (next < pending.length && !signal?.aborted) {
          // Each probe gets what is left of the timeout at most: with more hung hosts than
          // probe slots, later probes of a round must not run past the deadline.
          const budgetMs = Math.min(probeTimeoutMs, deadline - performance.now());
          if (budgetMs <= 0) break;
          const index = pending[next++] as number;
          const endpoint = endpoints[index] as AgentEndpoint;
          const result = await probe(dispatcher, endpoint, budgetMs, signal);
          if (signal?.aborted && !result.ready) break;
          options.onProbe?.(index, result.ready, result.detail);
          // A timeout of a probe the deadline cut short is no news when an earlier probe said why.
          const inconclusive = result.timedOut && budgetMs < probeTimeoutMs;
          if (result.ready) noteReady(index);
          else if (!inconclusive || lastErrors[index] === undefined) {
            lastErrors[index] = result.detail;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
      options.onRound?.(readyCount, performance.now() - startedAt);
      const left = deadline - performance.now();
      if (done() || left <= 0 || signal?.aborted) break;
      if (!(await sleep(Math.min(intervalMs, left), signal))) break;
    }
  } finally {
    await dispatcher.destroy();
  }
  const readyIndices = ready.flatMap((isReady, index) => (isReady ? [index] : []));
  return {
    ready: readyIndices.map((index) => endpoints[index] as AgentEndpoint),
    readyIndices,
    targetMet: readyCount >= minReady,
    aborted: signal?.aborted ?? false,
    elapsedMs: performance.now() - startedAt,
    notReady: endpoints.flatMap((endpoint, index) =>
      ready[index] ? [] : [{ index, endpoint, lastError: lastErrors[index] ?? 'not probed' }],
    ),
  };
}
