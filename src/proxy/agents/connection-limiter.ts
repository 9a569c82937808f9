/**
 * A counting limit with a FIFO wait queue, for `--connector-limit`: requests beyond
 * the limit wait their turn instead of failing, and a waiter whose client went away
 * leaves the queue without ever taking a slot.
 *
 * Callback based rather than promise based so that the common case (a free slot)
 * costs no allocation on the proxy's hot path.
 */
export class ConnectionLimiter {
  /** Most slots held at once. */
  readonly limit: number;
  #active = 0;
  // A Set keeps insertion order and removes any waiter in O(1).
  readonly #waiting = new Set<() => void>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Slots currently held. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#waiting.size;
  }

  /** Take a slot if one is free and nobody is waiting; returns whether it did. */
  tryAcquire(): boolean {
    if (this.#active >= this.limit || this.#waiting.size > 0) return false;
    this.#active++;
    return true;
  }

  /**
   * Wait for a slot: `start` is called (asynchronously) once one is taken for it.
   * The same function must not be queued twice.
   */
  enqueue(start: () => void): void {
    this.#waiting.add(start);
  }

  /** Leave the queue; returns false when `start` was not waiting (already started). */
  cancel(start: () => void): boolean {
    return this.#waiting.delete(start);
  }

  /** Give back a slot, handing it straight to the longest waiter if there is one. */
  release(): void {
    for (const start of this.#waiting) {
      this.#waiting.delete(start);
      // The slot passes to the waiter without being freed, so nobody can jump the queue.
      queueMicrotask(start);
      return;
    }
    this.#active--;
  }
}
