/**
 * An outage is not a prompt failure: when the proxy itself (or, in direct mode, every agent)
 * stops answering — the SSH tunnel drops, the proxy restarts — the calls that fail because of
 * it are not results. They wait until the target answers again and are sent again; nothing
 * new is sent meanwhile. Failures of single agents behind a reachable target stay failures.
 *
 * This is the seam a worker loop calls around each call (`aurora-swarm run` does, through
 * `runPromptFile`, and so does every `aurora-swarm job work` worker, through `RedisJob.work`):
 *
 * ```ts
 * const swarm = new SwarmReachability({ endpoints: pool.endpoints, proxyUrl: pool.proxyUrl });
 * const guard = new OutageGuard({ ...swarm.outageProbe(), outageTimeoutMs: 600_000, signal });
 * const response = await guard.send(() => pool.post(agentIndex, prompt, { signal }));
 * if (response === undefined) { // not done: the outage outlasted the timeout, or the signal fired
 *   requeue(prompt);
 * } else record(response);
 * ```
 *
 * How an outage is told apart from one agent failing: a failed call with no HTTP status
 * (refused, reset, timed out — see {@link isOutageSuspect}) is a suspect; one probe of the
 * target, started after the failure, decides. Probes are shared: however many calls fail at
 * once, at most one probe runs and one waits to start.
 */
import { sleep } from '../internal/sleep.js';
import type { AgentResponse } from '../pool/types.js';

/** How long `run` waits for an unreachable proxy (or swarm) before it stops: 10 minutes. */
export const DEFAULT_OUTAGE_TIMEOUT_MS = 600_000;
/** First wait between two probes of an unreachable target; grows by half up to the maximum. */
export const DEFAULT_OUTAGE_RETRY_INTERVAL_MS = 1_000;
/** Longest wait between two probes of an unreachable target. */
export const DEFAULT_OUTAGE_MAX_RETRY_INTERVAL_MS = 10_000;

/**
 * What an {@link OutageGuard} probes and how messages name it; {@link SwarmReachability}
 * (swarm-reachability.ts) is one for a pool's proxy or agents.
 */
export interface OutageProbe {
  /** Whether the target answers at all (any HTTP status counts). Must not reject. */
  probe(signal: AbortSignal | undefined): Promise<boolean>;
  /** The target in messages: `the proxy at http://localhost:9090`, `the agents`. */
  readonly target: string;
  /** Told of every response sent through the guard (a direct probe tries the agents that answered last). */
  noteResponse?(response: AgentResponse): void;
}

/** Options of {@link OutageGuard}: the probe, and how long and how often to wait. */
export interface OutageGuardOptions extends OutageProbe {
  /** Stop waiting after the target has been unreachable this long. @default 600_000 */
  outageTimeoutMs?: number;
  /** First wait between probes while unreachable. @default 1_000 */
  retryIntervalMs?: number;
  /** Longest wait between probes while unreachable. @default 10_000 */
  maxRetryIntervalMs?: number;
  /** Which failed responses may be caused by an outage. @default isOutageSuspect */
  isSuspect?(response: AgentResponse): boolean;
  /** Stops the waiting: calls waiting for the target resolve `undefined`. */
  signal?: AbortSignal;
  /** The target stopped answering (called once per outage). */
  onOutage?(outage: OutageEvent): void;
  /** The target answers again; the waiting calls are sent again. */
  onRecovered?(outage: OutageEvent): void;
  /** The outage lasted `outageTimeoutMs`: every waiting call resolved `undefined`. */
  onGiveUp?(outage: OutageEvent): void;
}

/** What the `on…` callbacks of an {@link OutageGuard} are told. */
export interface OutageEvent {
  target: string;
  /** Milliseconds since the outage was noticed. */
  elapsedMs: number;
  /** Calls held back by this outage so far (failed because of it, or not sent). */
  heldBack: number;
  outageTimeoutMs: number;
  retryIntervalMs: number;
  maxRetryIntervalMs: number;
}

/** An {@link OutageEvent} with what happened: the outage began, ended, or outlasted the timeout. */
export type OutageNotice = { type: 'outage' | 'recovered' | 'outage-timeout' } & OutageEvent;

/**
 * A failure that an unreachable target would cause: no HTTP answer at all (the connection was
 * refused, reset or timed out). Answers with a status (an agent's error, the proxy's 502 for
 * one agent it cannot reach) are the agents' failures, never an outage.
 */
export function isOutageSuspect(response: AgentResponse): boolean {
  if (response.success || response.status !== undefined) return false;
  const kind = response.failureKind;
  return kind === 'proxy-unreachable' || kind === 'connect' || kind === 'timeout';
}

type State = 'up' | 'outage' | 'gave-up';

// Resends of a call whose connection to a reachable proxy was dropped before any answer.
const MAX_QUICK_RESENDS = 3;

/** Holds calls back while their target is unreachable; see the file's header. */
export class OutageGuard {
  readonly #options: OutageGuardOptions;
  readonly #outageTimeoutMs: number;
  readonly #retryIntervalMs: number;
  readonly #maxRetryIntervalMs: number;
  #state: State = 'up';
  /** Outages so far: a call out while one began failed because of it. */
  #outages = 0;
  #outageStartedAt = 0;
  #heldBack = 0;
  #recovered: Promise<boolean> | undefined;
  #running: Promise<boolean> | undefined;
  #queued: Promise<boolean> | undefined;

  constructor(options: OutageGuardOptions) {
    this.#options = options;
    this.#outageTimeoutMs = options.outageTimeoutMs ?? DEFAULT_OUTAGE_TIMEOUT_MS;
    this.#retryIntervalMs = options.retryIntervalMs ?? DEFAULT_OUTAGE_RETRY_INTERVAL_MS;
    this.#maxRetryIntervalMs = Math.max(
      this.#retryIntervalMs,
      options.maxRetryIntervalMs ?? DEFAULT_OUTAGE_MAX_RETRY_INTERVAL_MS,
    );
  }

  /** Whether an outage outlasted the timeout (the guard then holds every call back for good). */
  get gaveUp(): boolean {
    return this.#state === 'gave-up';
  }

  /** Whether the target is unreachable right now. */
  get inOutage(): boolean {
    return this.#state === 'outage';
  }

  /**
   * Resolves `true` at once while the target is reachable, else once it answers again;
   * `false` when the guard gave up or its signal fired. A queue worker awaits it before it
   * takes more work, so that nothing new is taken during an outage. Never rejects.
   */
  ready(): Promise<boolean> {
    return this.#whenUp();
  }

  /**
   * Call `send` once the target is reachable and return its response, unless the response
   * failed because the target is unreachable: then wait for the target to answer again and
   * call `send` again. Resolves `undefined` when the call is not done — the outage outlasted
   * the timeout, or the signal fired while waiting — so the caller keeps it for later.
   * Never rejects unless `send` does.
   */
  async send(send: () => Promise<AgentResponse>): Promise<AgentResponse | undefined> {
    const isSuspect = this.#options.isSuspect ?? isOutageSuspect;
    let held = false;
    const holdBack = () => {
      if (!held) this.#heldBack++;
      held = true;
    };
    for (let resends = 0; ; ) {
      if (this.#state !== 'up') {
        holdBack();
        if (!(await this.#whenUp())) return undefined;
      }
      const outagesBefore = this.#outages;
      const response = await send();
      this.#options.noteResponse?.(response);
      if (!isSuspect(response) || this.#options.signal?.aborted) return response;
      if (await this.#check()) {
        // An outage began (and ended) while this call was out: it failed because of it,
        // even though the target answers again by the time its own probe ran.
        if (this.#outages !== outagesBefore) continue;
        // The proxy was back before the probe (a quick restart): the connection it dropped
        // carried no answer, so the call is sent again, a few times at most.
        if (response.failureKind !== 'proxy-unreachable' || resends >= MAX_QUICK_RESENDS) {
          return response;
        }
        resends++;
        continue;
      }
      holdBack();
    }
  }

  /** Resolves `true` once the target is reachable, `false` if the guard gave up or was stopped. */
  #whenUp(): Promise<boolean> {
    if (this.#state === 'up') return Promise.resolve(true);
    if (this.#state === 'gave-up' || this.#options.signal?.aborted) return Promise.resolve(false);
    return this.#recovered ?? Promise.resolve(false);
  }

  /** Whether the target is reachable, by a probe that starts after this call. */
  #check(): Promise<boolean> {
    if (this.#state !== 'up') return Promise.resolve(false);
    if (this.#queued) return this.#queued;
    const start = (): Promise<boolean> => {
      this.#queued = undefined;
      const probe = this.#probe().then((reachable) => {
        if (this.#running === probe) this.#running = undefined;
        if (!reachable) this.#enterOutage();
        return reachable;
      });
      this.#running = probe;
      return probe;
    };
    if (this.#running === undefined) return start();
    this.#queued = this.#running.then(start);
    return this.#queued;
  }

  async #probe(): Promise<boolean> {
    try {
      return await this.#options.probe(this.#options.signal);
    } catch {
      return false;
    }
  }

  #event(): OutageEvent {
    return {
      target: this.#options.target,
      elapsedMs: performance.now() - this.#outageStartedAt,
      heldBack: this.#heldBack,
      outageTimeoutMs: this.#outageTimeoutMs,
      retryIntervalMs: this.#retryIntervalMs,
      maxRetryIntervalMs: this.#maxRetryIntervalMs,
    };
  }

  #enterOutage(): void {
    if (this.#state !== 'up') return;
    this.#state = 'outage';
    this.#outages++;
    this.#outageStartedAt = performance.now();
    this.#heldBack = 0;
    this.#recovered = this.#waitForRecovery();
    this.#options.onOutage?.(this.#event());
  }

  async #waitForRecovery(): Promise<boolean> {
    const { signal } = this.#options;
    let delayMs = this.#retryIntervalMs;
    for (;;) {
      const leftMs = this.#outageTimeoutMs - (performance.now() - this.#outageStartedAt);
      if (leftMs <= 0) break;
      if (!(await sleep(Math.min(delayMs, leftMs), signal))) return false;
      if (await this.#probe()) {
        this.#state = 'up';
        this.#options.onRecovered?.(this.#event());
        return true;
      }
      if (signal?.aborted) return false;
      delayMs = Math.min(delayMs * 1.5, this.#maxRetryIntervalMs);
    }
    this.#state = 'gave-up';
    this.#options.onGiveUp?.(this.#event());
    return false;
  }
}
