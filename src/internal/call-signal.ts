/**
 * One attempt's abort signal: fires when the caller's signal fires or when the
 * attempt's timeout elapses, and remembers which of the two happened.
 *
 * Internal. Hand-rolled instead of `AbortSignal.any([signal, AbortSignal.timeout()])`
 * because it is created for every request of a 100,000-prompt scatter: one
 * controller, one timer and one listener, all released by `dispose()`, keep the
 * per-call cost low and leave nothing attached to a long-lived caller signal.
 */
export class CallSignal {
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timedOut = false;
  #onCallerAbort: (() => void) | undefined;

  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
    this.#callerSignal = callerSignal;
    if (callerSignal) {
      if (callerSignal.aborted) {
        this.#controller.abort(callerSignal.reason);
      } else {
        this.#onCallerAbort = () => this.#controller.abort(callerSignal.reason);
        callerSignal.addEventListener('abort', this.#onCallerAbort, { once: true });
      }
    }
    if (!this.#controller.signal.aborted) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#timedOut = true;
        this.#controller.abort(new Error(`timeout after ${timeoutMs} ms`));
      }, timeoutMs);
    }
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
    if (this.#onCallerAbort && this.#callerSignal) {
      this.#callerSignal.removeEventListener('abort', this.#onCallerAbort);
      this.#onCallerAbort = undefined;
    }
  }
}
