/**
 * One attempt's abort signal: fires when the caller's signal fires or when the
 * attempt's timeout elapses, and remembers which of the two happened.
 *
 * Internal. Hand-rolled instead of `AbortSignal.any([signal, AbortSignal.timeout()])`
 * because it is created for every request of a 100,000-prompt scatter: one
 * controller and one timer, released by `dispose()`. Calls sharing a caller signal
 * share one listener on it (see shared-abort.ts).
 */
import { type AbortSubscriber, subscribeAbort, unsubscribeAbort } from './shared-abort.js';
import { MAX_TIMER_DELAY_MS } from './timer-limit.js';

export class CallSignal implements AbortSubscriber {
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;
  #listening = false;

  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
    this.#callerSignal = callerSignal;
    if (callerSignal) {
      if (callerSignal.aborted) {
        this.#controller.abort(callerSignal.reason);
      } else {
        subscribeAbort(callerSignal, this);
        this.#listening = true;
      }
    }
    if (!this.#controller.signal.aborted) this.#arm(timeoutMs, timeoutMs);
  }

  /** Time out `leftMs` from now, in steps a Node timer can hold (timer-limit.ts). */
  #arm(leftMs: number, timeoutMs: number): void {
    const stepMs = Math.min(leftMs, MAX_TIMER_DELAY_MS);
    this.#timer = setTimeout(() => {
      if (leftMs > stepMs) {
        this.#arm(leftMs - stepMs, timeoutMs);
        return;
      }
      this.#timer = undefined;
      this.#timedOut = true;
      this.#controller.abort(new Error(`timeout after ${timeoutMs} ms`));
    }, stepMs);
  }

  /** The merged signal to hand to the HTTP request. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Whether the timeout fired (as opposed to the caller aborting). */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Whether the caller's own signal fired. */
  get callerAborted(): boolean {
    return this.#callerSignal?.aborted === true && !this.#timedOut;
  }

  /** The caller's signal fired. */
  onSharedAbort(reason: unknown): void {
    this.abort(reason);
  }

  /** Abort the attempt on our own initiative (e.g. a consumer stopped reading a stream). */
  abort(reason?: unknown): void {
    this.#controller.abort(reason);
  }

  /** Stop the timer and detach from the caller's signal. Idempotent. */
  dispose(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#listening && this.#callerSignal) {
      unsubscribeAbort(this.#callerSignal, this);
      this.#listening = false;
    }
  }
}
