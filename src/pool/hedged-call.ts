/**
 * A hedged call: when the first agent sends no response headers within `hedgeAfterMs`,
 * the same request also goes to another agent (the least loaded whose breaker lets it
 * through), up to `maxHedges` extra agents. The first 2xx response head wins and every
 * other call is aborted at once — the agent sees its connection close and stops
 * generating. A call that fails does not end the race while another is still running.
 * Streams are decided at their response head too, so no byte is ever read from two agents.
 * With a {@link TailHedge} instead of a fixed delay (tail-hedge.ts) the delay is the
 * fan-out's own, asked again until it is known and a hedge may go out.
 *
 * Internal. Each call of the race is a full call of pool-transport.ts (slot, breaker,
 * retries), with its own signal and an observer that reports its progress here.
 */

import { performance } from 'node:perf_hooks';
import {
  type AbortSubscriber,
  subscribeAbort,
  unsubscribeAbort,
} from '../internal/shared-abort.js';
import type { TailHedge } from './tail-hedge.js';
import type { AnsweredBy, AttemptObserver } from './transport-attempt.js';

/** How one call of a hedged race is run. */
export interface HedgeLeg {
  /** Aborted when another call won, or when the caller's signal fires. */
  readonly signal: AbortSignal;
  readonly observer: AttemptObserver;
  /** Agents (global indices) already used by the race: a hedge never goes to one of them. */
  readonly avoid: number[];
  /** Whether this is a hedge (it picks its agent) rather than the first call. */
  readonly hedge: boolean;
}

/** What a hedged race needs from the transport. */
export interface HedgedCallOptions<Result> {
  /** A fixed delay, or a fan-out's adaptive one (hedge only when it says so). */
  hedgeAfterMs: number | TailHedge;
  maxHedges: number;
  /** The caller's signal. */
  signal: AbortSignal | undefined;
  /** Run one call of the race. Never rejects. */
  run(leg: HedgeLeg): Promise<Result>;
  /** Whether some agent not in `avoid` could take a hedge now. */
  canHedge(avoid: readonly number[]): boolean;
  /** Release a result that lost the race (a stream holding its slot). */
  discard(result: Result): void;
}

interface Leg {
  readonly controller: AbortController;
  done: boolean;
  result: unknown;
  /** `performance.now()` at its latest send, and from there to its 2xx headers. */
  sentAt: number;
  headersAfterMs: number | undefined;
}

/** How soon a call whose adaptive hedge may not go out yet asks again (ms). */
const TAIL_RECHECK_MS = 100;

/** Run `options.run` as a hedged race; resolves with the winner (or the first call's failure). */
export function runHedged<Result extends AnsweredBy & { ok: boolean }>(
  options: HedgedCallOptions<Result>,
): Promise<Result> {
  return new HedgedCall(options).start();
}

class HedgedCall<Result extends AnsweredBy & { ok: boolean }> implements AbortSubscriber {
  readonly #options: HedgedCallOptions<Result>;
  readonly #legs: Leg[] = [];
  readonly #avoid: number[] = [];
  #winner: Leg | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #hedges = 0;
  #resolved = false;
  /** Response headers arrived since the last request of the race was sent. */
  #headersSeen = false;
  #resolve!: (result: Result) => void;

  constructor(options: HedgedCallOptions<Result>) {
    this.#options = options;
  }

  start(): Promise<Result> {
    const promise = new Promise<Result>((resolve) => {
      this.#resolve = resolve;
    });
    const signal = this.#options.signal;
    if (signal !== undefined && !signal.aborted) subscribeAbort(signal, this);
    if (typeof this.#options.hedgeAfterMs !== 'number') this.#options.hedgeAfterMs.callStarted();
    this.#startLeg(false);
    return promise;
  }

  /** The caller's signal fired: every call of the race stops. */
  onSharedAbort(reason: unknown): void {
    for (const leg of this.#legs) leg.controller.abort(reason);
  }

  #startLeg(hedge: boolean): void {
    const controller = new AbortController();
    const callerSignal = this.#options.signal;
    if (callerSignal?.aborted) controller.abort(callerSignal.reason);
    const leg: Leg = {
      controller,
      done: false,
      result: undefined,
      sentAt: 0,
      headersAfterMs: undefined,
    };
    this.#legs.push(leg);
    const observer: AttemptObserver = {
      onSend: (globalIndex) => {
        if (!this.#avoid.includes(globalIndex)) this.#avoid.push(globalIndex);
        this.#headersSeen = false;
        leg.sentAt = performance.now();
        if (this.#winner === undefined) this.#armTimer();
      },
      onResponseStart: (status) => {
        this.#clearTimer();
        this.#headersSeen = true;
        if (status < 200 || status >= 300) return;
        if (this.#winner === undefined) {
          leg.headersAfterMs = performance.now() - leg.sentAt;
          this.#winner = leg;
          this.#abortOthers(leg);
        } else if (this.#winner !== leg) {
          controller.abort(new Error('another agent answered first'));
        }
      },
    };
    void this.#options
      .run({ signal: controller.signal, observer, avoid: this.#avoid, hedge })
      .then((result) => this.#settled(leg, result));
  }

  #armTimer(): void {
    if (this.#timer !== undefined || this.#hedges >= this.#options.maxHedges) return;
    const hedgeAfterMs = this.#options.hedgeAfterMs;
    this.#schedule(
      typeof hedgeAfterMs === 'number' ? hedgeAfterMs : this.#tailWaitMs(hedgeAfterMs),
    );
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      // Expired timers run before the event loop polls for I/O: an answer that arrived
      // while the loop was busy (a scatter sending hundreds of requests) is still unread.
      // Decide after the next poll, so that only calls that really have no answer yet
      // are hedged.
      this.#immediate = setImmediate(() => {
        this.#timer = undefined;
        this.#immediate = undefined;
        if (this.#resolved || this.#winner !== undefined || this.#headersSeen) return;
        const hedgeAfterMs = this.#options.hedgeAfterMs;
        const tail = typeof hedgeAfterMs === 'number' ? undefined : hedgeAfterMs;
        if (tail !== undefined) {
          const waitMs = this.#tailWaitMs(tail);
          if (waitMs > 0) {
            this.#schedule(waitMs);
            return;
          }
        }
        if (!this.#options.canHedge(this.#avoid)) {
          // An adaptive hedge waits for room; a fixed one is given up, as before.
          if (tail !== undefined) this.#schedule(TAIL_RECHECK_MS);
          return;
        }
        this.#hedges++;
        this.#startLeg(true);
      });
    }, delayMs);
  }

  /** How long until the adaptive hedge is due (0: now), or the recheck delay while unknown. */
  #tailWaitMs(tail: TailHedge): number {
    const hedgeAfterMs = tail.hedgeAfterMs();
    if (hedgeAfterMs === undefined) return TAIL_RECHECK_MS;
    const sentAt = (this.#legs[this.#legs.length - 1] as Leg).sentAt;
    return Math.max(0, Math.ceil(hedgeAfterMs - (performance.now() - sentAt)));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #abortOthers(winner: Leg): void {
    for (const leg of this.#legs) {
      if (leg !== winner && !leg.done) {
        leg.controller.abort(new Error('another agent answered first'));
      }
    }
  }

  #settled(leg: Leg, result: Result): void {
    leg.done = true;
    leg.result = result;
    if (this.#resolved) {
      this.#options.discard(result);
      return;
    }
    // A success always saw its 2xx head first, which made it the winner.
    if (leg === this.#winner || (this.#winner === undefined && result.ok)) {
      this.#finish(result);
      this.#abortOthers(leg);
      return;
    }
    if (this.#winner !== undefined || this.#legs.some((other) => !other.done)) {
      // Another call may still succeed (or already holds the winning answer).
      if (this.#winner !== undefined && leg !== this.#winner) this.#options.discard(result);
      return;
    }
    // Every call failed: report the first one's failure.
    const first = this.#legs[0] as Leg;
    for (const other of this.#legs) {
      if (other !== first) this.#options.discard(other.result as Result);
    }
    this.#finish(first.result as Result);
  }

  #finish(result: Result): void {
    this.#resolved = true;
    this.#clearTimer();
    const hedgeAfterMs = this.#options.hedgeAfterMs;
    if (typeof hedgeAfterMs !== 'number') {
      hedgeAfterMs.callEnded(result.ok ? this.#winner?.headersAfterMs : undefined);
    }
    const signal = this.#options.signal;
    if (signal !== undefined) unsubscribeAbort(signal, this);
    result.hedged = this.#legs.length > 1;
    this.#resolve(result);
  }
}
