/**
 * A counting semaphore shared by a pool and all of its sub-pools.
 *
 * Internal: not exported from the package root. Waiters are served first in,
 * first out; a waiter whose signal fires leaves the queue at once.
 */
import { type AbortSubscriber, subscribeAbort, unsubscribeAbort } from './shared-abort.js';

interface Waiter extends AbortSubscriber {
  resolve: ((acquired: boolean) => void) | undefined;
  signal: AbortSignal | undefined;
}

// Compact the queue only when the consumed prefix is large, so a long scatter
// does not shift a 100,000-element array on every release.
const COMPACT_THRESHOLD = 1024;

/** Limits how many operations run at once. */
export class ConcurrencyLimiter {
  /** Maximum simultaneous holders of a slot. */
  readonly capacity: number;
  #active = 0;
  #peakActive = 0;
  #queue: Waiter[] = [];
  #head = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Slots currently held. */
  get active(): number {
    return this.#active;
  }

  /** The most slots ever held at once (for tests and diagnostics). */
  get peakActive(): number {
    return this.#peakActive;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    let count = 0;
    for (let index = this.#head; index < this.#queue.length; index++) {
      if (this.#queue[index]?.resolve) count++;
    }
    return count;
  }

  /** Take a slot now if one is free. */
  tryAcquire(): boolean {
    if (this.#active < this.capacity) {
      this.#active++;
      if (this.#active > this.#peakActive) this.#peakActive = this.#active;
      return true;
    }
    return false;
  }

  /**
   * Wait for a slot. Resolves `true` once the slot is held (call `release()` later),
   * or `false` if `signal` fired first (nothing to release).
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.tryAcquire()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve,
        signal,
        onSharedAbort() {
          const settle = waiter.resolve;
          waiter.resolve = undefined;
          settle?.(false);
        },
      };
      if (signal) subscribeAbort(signal, waiter);
      this.#queue.push(waiter);
    });
  }

  /** Give a slot back; the longest-waiting live caller gets it. */
  release(): void {
    while (this.#head < this.#queue.length) {
      const waiter = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined as unknown as Waiter;
      this.#head++;
      this.#compact();
      const resolve = waiter.resolve;
      if (!resolve) continue;
      waiter.resolve = undefined;
      if (waiter.signal) unsubscribeAbort(waiter.signal, waiter);
      // The slot passes straight to the waiter: `#active` does not change.
      resolve(true);
      return;
    }
    this.#active--;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > COMPACT_THRESHOLD && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
