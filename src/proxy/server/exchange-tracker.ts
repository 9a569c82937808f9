/**
 * The forwarded requests still open, for a graceful shutdown: the forwarder reports
 * each exchange as it opens and as its client response closes, and `close()` waits
 * until none is left — or until the grace period ends, or `close(0)` / `destroy()`
 * cut the wait short.
 */

/** Counts open exchanges and lets one shutdown wait for the last to close. */
export class ExchangeTracker {
  #open = 0;
  #endWait: (() => void) | undefined;
  /** When the last open exchange closed (`performance.now()`), or the tracker was made. */
  #quietSince = performance.now();

  /** Exchanges opened and not closed yet. */
  get open(): number {
    return this.#open;
  }

  /** How long no exchange has been open, in milliseconds (0 while one is). */
  quietForMs(now: number = performance.now()): number {
    return this.#open > 0 ? 0 : now - this.#quietSince;
  }

  /** An exchange was accepted (before any queueing). */
  readonly opened = (): void => {
    this.#open++;
  };

  /** An exchange's client response closed (finished or not). */
  readonly closed = (): void => {
    this.#open--;
    if (this.#open === 0) {
      this.#quietSince = performance.now();
      this.#endWait?.();
    }
  };

  /**
   * Resolve once no exchange is open, after `graceMs` at the latest, or at
   * {@link stopWaiting}; at once when none is open. One wait at a time.
   * @param graceMs Longest wait, in milliseconds.
   */
  waitUntilIdle(graceMs: number): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const graceTimer = setTimeout(() => this.#endWait?.(), graceMs);
      this.#endWait = () => {
        clearTimeout(graceTimer);
        this.#endWait = undefined;
        resolve();
      };
    });
  }

  /** End a running {@link waitUntilIdle} now (nothing happens without one). */
  stopWaiting(): void {
    this.#endWait?.();
  }
}
