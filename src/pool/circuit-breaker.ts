/**
 * One agent's circuit breaker, and what an attempt's outcome says about the agent.
 *
 * Closed: calls go through. After `failures` consecutive connection failures the breaker
 * opens — but only if some agent of the pool answered a request *sent after* the first of
 * them (answers to requests sent earlier prove nothing about the network now), and only
 * while fewer than half of the pool's breakers are open (agent-states.ts): when nothing
 * answers, or most agents fail at once, the fault is more likely the network, the login
 * node, the proxy or the end of the allocation (an outage, which `run` waits out) than this
 * agent, and opening every breaker would turn an outage into thousands of fast failures.
 * Open: calls fail at once (`unavailable`) until `cooldownMs` has passed; then one trial
 * call is let through (half-open). An answer of the agent closes the breaker; a connection
 * failure of the trial opens it again.
 *
 * Internal. Time is `performance.now()` milliseconds, passed in by the caller.
 */
import { extractErrorMessage } from './describe-failure.js';
import type { ResolvedBreakerOptions } from './pool-options.js';

/** A breaker's state as `agentHealth()` reports it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * What one attempt says about the agent: it `answered` (any HTTP answer of its own), it was
 * `unreachable` (refused, reset before any answer, connect timeout; through the proxy, the
 * proxy's 502 "cannot connect"), or nothing is known (`unknown`: a timeout, an abort, an
 * unreachable proxy, a gateway error that is not about connecting).
 */
export type AgentVerdict = 'answered' | 'unreachable' | 'unknown';

/** How a call was let through: normally, or as the one trial call of a half-open breaker. */
export type Admission = 'closed' | 'trial';

// Connection errors that mean "this agent is not serving". ETIMEDOUT and
// UND_ERR_CONNECT_TIMEOUT are connect timeouts; a reset before any answer counts too.
// EAI_AGAIN is not here: a resolver that is briefly down is the client's trouble.
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The proxy's 502 message for an agent it could not reach (proxy/forward/gateway-error.ts). */
const PROXY_CANNOT_CONNECT = 'cannot connect to ';

/**
 * The verdict of a connection error before any answer. Through the proxy it is always
 * `unknown`: a failure to reach the proxy says nothing about the agents behind it.
 */
export function connectionVerdict(code: string | undefined, proxied: boolean): AgentVerdict {
  if (proxied || code === undefined) return 'unknown';
  return UNREACHABLE_CODES.has(code) ? 'unreachable' : 'unknown';
}

/**
 * The verdict of an HTTP answer. Directly, any answer is the agent's. Through the proxy,
 * the proxy's own 502/503/504 are about the agent only when they say it could not connect.
 */
export function answerVerdict(status: number, bodyText: string, proxied: boolean): AgentVerdict {
  if (!proxied || (status !== 502 && status !== 503 && status !== 504)) return 'answered';
  const { message, source } = extractErrorMessage(bodyText);
  if (source !== 'proxy') return 'answered';
  return status === 502 && message?.startsWith(PROXY_CANNOT_CONNECT) ? 'unreachable' : 'unknown';
}

/** One agent's breaker. Created on the agent's first connection failure. */
export class CircuitBreaker {
  readonly #settings: ResolvedBreakerOptions;
  #failures = 0;
  /** The pool's last send number when the current failure streak began. */
  #sendsAtStreakStart = 0;
  /** `performance.now()` until which calls are refused; 0 while closed. */
  #openUntilMs = 0;
  #trialInFlight = false;
  #lastFailure = '';
  #timesOpened = 0;

  constructor(settings: ResolvedBreakerOptions) {
    this.#settings = settings;
  }

  /** Consecutive connection failures. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** How many times the breaker opened. */
  get timesOpened(): number {
    return this.#timesOpened;
  }

  /** The last connection failure, in words (`''` before any). */
  get lastFailure(): string {
    return this.#lastFailure;
  }

  /** The state at `nowMs`. */
  state(nowMs: number): BreakerState {
    if (this.#openUntilMs === 0) return 'closed';
    return nowMs < this.#openUntilMs ? 'open' : 'half-open';
  }

  /** Milliseconds until a trial call is let through (0 when closed or half-open). */
  retryInMs(nowMs: number): number {
    return this.#openUntilMs === 0 ? 0 : Math.max(0, this.#openUntilMs - nowMs);
  }

  /** Whether a trial call is in flight (half-open). */
  get trialInFlight(): boolean {
    return this.#trialInFlight;
  }

  /** Whether a call would be let through at `nowMs` (no side effect). */
  admits(nowMs: number): boolean {
    return this.#openUntilMs === 0 || (nowMs >= this.#openUntilMs && !this.#trialInFlight);
  }

  /** Let a call through, or refuse it (`undefined`). A half-open breaker lets one trial through. */
  admit(nowMs: number): Admission | undefined {
    if (this.#openUntilMs === 0) return 'closed';
    if (nowMs < this.#openUntilMs || this.#trialInFlight) return undefined;
    this.#trialInFlight = true;
    return 'trial';
  }

  /**
   * The agent answered: the breaker closes.
   * @returns whether it was open (or half-open) until now
   */
  recordAnswer(admission: Admission | undefined): boolean {
    if (admission === 'trial') this.#trialInFlight = false;
    const wasOpen = this.#openUntilMs !== 0;
    this.#failures = 0;
    this.#openUntilMs = 0;
    return wasOpen;
  }

  /** Nothing learned (a timeout, an abort): a trial call makes room for another. */
  recordUnknown(admission: Admission | undefined): void {
    if (admission === 'trial') this.#trialInFlight = false;
  }

  /**
   * A connection failure. `sends` is the number of the pool's latest request; `answered`
   * the number of the latest request any agent answered. `mayOpen` is false while too
   * many breakers of the pool are open already.
   * @returns `'opened'` (it was closed), `'reopened'` (a failed trial) or `'unchanged'`
   */
  recordUnreachable(
    admission: Admission | undefined,
    description: string,
    nowMs: number,
    sends: number,
    answered: number,
    mayOpen: boolean,
  ): 'opened' | 'reopened' | 'unchanged' {
    this.#lastFailure = description;
    if (this.#failures === 0) this.#sendsAtStreakStart = sends;
    this.#failures++;
    if (admission === 'trial') {
      this.#trialInFlight = false;
      this.#open(nowMs);
      return 'reopened';
    }
    if (this.#openUntilMs !== 0 || !mayOpen) return 'unchanged';
    if (this.#failures < this.#settings.failures || answered <= this.#sendsAtStreakStart) {
      return 'unchanged';
    }
    this.#open(nowMs);
    return 'opened';
  }

  /** Why calls are refused, for messages: `3 connection failures in a row (last: …)`. */
  describe(): string {
    return `${this.#failures} connection failure(s) in a row (last: ${this.#lastFailure})`;
  }

  #open(nowMs: number): void {
    this.#openUntilMs = nowMs + this.#settings.cooldownMs;
    this.#timesOpened++;
  }
}
