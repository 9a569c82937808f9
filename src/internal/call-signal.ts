/**
 * One attempt's abort signal: fires when the caller's signal fires or when the
 * attempt's timeout elapses, and remembers which of the two happened.
 *
 * Internal. Hand-rolled instead of `AbortSignal.any([signal, AbortSignal.timeout()])`
 * because it is created for every request of a 100,000-prompt scatter. It is not even an
 * `AbortController`: Node's AbortSignal is an EventTarget whose creation, listener
 * bookkeeping and dispatch cost ~6% of a scatter's CPU (bench/README.md, "Client"), while
 * undici's `request()` reads only four members of the signal it is given — `aborted`,
 * `reason`, `addEventListener('abort', …)` and `removeEventListener('abort', …)`
 * (undici/lib/api/api-request.js and core/util.js `addAbortListener`). A `CallSignal` is
 * that signal itself, and its timeout waits in a shared deadline list (deadline-queue.ts):
 * one object per attempt, released by `dispose()`.
 * Calls sharing a caller signal share one listener on it (see shared-abort.ts).
 */
import { addDeadline, cancelDeadline, DeadlineEntry } from './deadline-queue.js';
import { type AbortSubscriber, subscribeAbort, unsubscribeAbort } from './shared-abort.js';

/** A function, or an object with `handleEvent` (as EventTarget takes them). */
type AbortListener =
  | ((this: unknown, event: { type: 'abort' }) => void)
  | { handleEvent(event: { type: 'abort' }): void };

export class CallSignal extends DeadlineEntry implements AbortSubscriber {
  readonly #callerSignal: AbortSignal | undefined;
  readonly #timeoutMs: number;
  #aborted = false;
  #reason: unknown;
  /** The one listener a request adds (undici's); more are kept in `#moreListeners`. */
  #listener: AbortListener | undefined;
  #moreListeners: AbortListener[] | undefined;
  #timedOut = false;
  #listening = false;

  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
    super();
    this.#callerSignal = callerSignal;
    this.#timeoutMs = timeoutMs;
    if (callerSignal) {
      if (callerSignal.aborted) {
        this.#aborted = true;
        this.#reason = callerSignal.reason;
        return;
      }
      subscribeAbort(callerSignal, this);
      this.#listening = true;
    }
    // One shared timer per duration, not one per attempt (deadline-queue.ts).
    addDeadline(this, timeoutMs);
  }

  /** The timeout elapsed. @internal (deadline-queue.ts) */
  onDeadline(): void {
    this.#timedOut = true;
    this.abort(new Error(`timeout after ${this.#timeoutMs} ms`));
  }

  /**
   * The signal to hand to undici's `request()` (this object: see the file's header). Typed
   * as an `AbortSignal` for undici's options; it has only `aborted`, `reason`,
   * `addEventListener` and `removeEventListener` (of `abort` events).
   */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }

  /** Whether the attempt was aborted (timeout, caller, or {@link abort}). */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Whether the timeout fired (as opposed to the caller aborting). */
  get timedOut(): boolean {
    return this.#timedOut;
  }

  /** Whether the caller's own signal fired. */
  get callerAborted(): boolean {
    return this.#callerSignal?.aborted === true && !this.#timedOut;
  }

  /** EventTarget's, for `abort` only; a listener added after the abort is never called. */
  addEventListener(type: string, listener: AbortListener | null): void {
    if (
      type !== 'abort' ||
      listener === null ||
      (typeof listener !== 'object' && typeof listener !== 'function') ||
      this.#aborted
    )
      return;
    if (this.#listener === undefined) this.#listener = listener;
    else if (this.#moreListeners === undefined) this.#moreListeners = [listener];
    else this.#moreListeners.push(listener);
  }

  /** EventTarget's, for `abort` only. */
  removeEventListener(type: string, listener: AbortListener | null): void {
    if (type !== 'abort') return;
    if (this.#listener === listener) {
      this.#listener = this.#moreListeners?.shift();
      return;
    }
    const more = this.#moreListeners;
    const index = more === undefined ? -1 : more.indexOf(listener as AbortListener);
    if (index >= 0) more?.splice(index, 1);
  }

  /** The caller's signal fired. */
  onSharedAbort(reason: unknown): void {
    this.abort(reason);
  }

  /** Abort the attempt on our own initiative (e.g. a consumer stopped reading a stream). */
  abort(reason?: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason =
      reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.dispose();
    const first = this.#listener;
    const more = this.#moreListeners;
    this.#listener = undefined;
    this.#moreListeners = undefined;
    const event = { type: 'abort' as const };
    if (first !== undefined) this.#call(first, event);
    if (more !== undefined) for (const listener of more) this.#call(listener, event);
  }

  #call(listener: AbortListener, event: { type: 'abort' }): void {
    if (typeof listener === 'function') listener.call(this, event);
    else listener.handleEvent(event);
  }

  /** Stop the timer and detach from the caller's signal. Idempotent. */
  dispose(): void {
    cancelDeadline(this);
    if (this.#listening && this.#callerSignal) {
      unsubscribeAbort(this.#callerSignal, this);
      this.#listening = false;
    }
  }
}
