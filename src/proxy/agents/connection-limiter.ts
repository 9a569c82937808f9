/**
 * A counting limit with a FIFO wait queue, for `--connector-limit`: requests beyond
 * the limit wait their turn instead of failing, and a waiter whose client went away
 * leaves the queue without ever taking a slot.
 *
 * Callback based rather than promise based so that the common case (a free slot)
 * costs no allocation on the proxy's hot path; a waiter is any object with a `start`
 * method (the forwarder queues its exchanges themselves, no closure per request).
 */

/** Something waiting for a slot. */
export interface SlotWaiter {
  /** Called (asynchronously) once a slot is taken for this waiter. */
  start(): void;
}

function startWaiter(waiter: SlotWaiter): void {
  waiter.start();
}

export class ConnectionLimiter {
  /** Most slots held at once. */
  readonly limit: number;
  #active = 0;
  // A Set keeps insertion order and removes any waiter in O(1).
  readonly #waiting = new Set<SlotWaiter>();

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
   * Wait for a slot: `waiter.start()` is called (asynchronously) once one is taken for
   * it. The same waiter must not be queued twice.
   */
  enqueue(waiter: SlotWaiter): void {
    this.#waiting.add(waiter);
  }

  /** Leave the queue; returns false when `waiter` was not waiting (already started). */
  cancel(waiter: SlotWaiter): boolean {
    return this.#waiting.delete(waiter);
  }

  /** Give back a slot, handing it straight to the longest waiter if there is one. */
  release(): void {
    for (const waiter of this.#waiting) {
      this.#waiting.delete(waiter);
      // The slot passes to the waiter without being freed, so nobody can jump the queue.
      process.nextTick(startWaiter, waiter);
      return;
    }
    this.#active--;
  }
}
