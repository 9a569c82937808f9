/**
 * One attempt's abort signal: fires when the caller's signal fires or when the
 * attempt's timeout elapses, and remembers which of the two happened.
 *
 * Internal. Hand-rolled instead of `AbortSignal.any([signal, AbortSignal.timeout()])`
 * because it is created for every request of a 100,000-prompt scatter: one
 * controller and one timer, released by `dispose()`. Calls sharing a caller signal
 * (a pattern's window passes one signal to all of its calls) share ONE listener on
 * it: EventTarget's add/removeEventListener walk the signal's whole listener list,
 * which made them O(calls in flight) per call (bench/: ~7% of a scatter's CPU at 512).
 */

/** The calls listening to each caller signal, behind the single listener added to it. */
const callsBySignal = new WeakMap<AbortSignal, Set<CallSignal>>();

function listen(callerSignal: AbortSignal, call: CallSignal): void {
  let calls = callsBySignal.get(callerSignal);
  if (calls === undefined) {
    const registered = new Set<CallSignal>();
    calls = registered;
    callsBySignal.set(callerSignal, registered);
    callerSignal.addEventListener(
      'abort',
      () => {
        callsBySignal.delete(callerSignal);
        for (const listening of registered) listening.abort(callerSignal.reason);
      },
      { once: true },
    );
  }
  calls.add(call);
}

export class CallSignal {
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
        listen(callerSignal, this);
        this.#listening = true;
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
    if (this.#listening && this.#callerSignal) {
      // The shared listener stays on the caller's signal (one per signal, not per
      // call); it is released with the signal or fires once.
      callsBySignal.get(this.#callerSignal)?.delete(this);
      this.#listening = false;
    }
  }
}
