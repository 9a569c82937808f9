/**
 * Wait until enough agents of a hostfile answer `GET /health` with 200: what a job script
 * does between submitting vLLM servers and starting the proxy or a run.
 */
import { Agent } from 'undici';
import { InvalidOptionError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { describeValue } from '../internal/describe-value.js';
import { sleep } from '../internal/sleep.js';

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
  /** Give up this many milliseconds after the start, whatever the agents do. */
  timeoutMs: number;
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
}

/** Whether the agent answers `GET /health` with 200 within `timeoutMs`. Never rejects. */
async function probe(
  dispatcher: Agent,
  endpoint: AgentEndpoint,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await dispatcher.request({
      origin: endpoint.url,
      path: '/health',
      method: 'GET',
      signal: controller.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
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
  const deadline = startedAt + timeoutMs;
  const ready = new Array<boolean>(endpoints.length).fill(false);
  let readyCount = 0;
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
          if (await probe(dispatcher, endpoints[index] as AgentEndpoint, budgetMs, signal)) {
            ready[index] = true;
            readyCount++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));
      options.onRound?.(readyCount, performance.now() - startedAt);
      const left = deadline - performance.now();
      if (readyCount >= minReady || left <= 0 || signal?.aborted) break;
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
  };
}
