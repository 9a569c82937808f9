/**
 * Adaptive tail hedging of a least-loaded fan-out (`dispatch: 'least-loaded'` without a
 * `hedgeAfterMs`): once every prompt of the fan-out has been handed out (nothing waits for
 * a slot), a call that has had no response headers for `max(TAIL_HEDGE_FLOOR_MS,
 * TAIL_HEDGE_FACTOR × median)` is hedged, the median being the time to headers of the
 * fan-out's own calls. With every prompt in flight at once, least-loaded placement cannot
 * see a slow agent before it is too late: this is what routes its share elsewhere.
 *
 * The median counts the calls still running as slower than every finished one, and is
 * known only once more than half of the calls started have their headers and at least
 * `TAIL_HEDGE_MIN_SAMPLES` did: the first answers to come back are the fastest, so a
 * median of those alone would be too low and hedge ordinary calls of an even swarm.
 *
 * Internal: a fan-out creates one {@link TailHedge} and hands it to its calls under the
 * {@link TAIL_HEDGE} key of their call options.
 */
/** Never hedge a call sooner than this after it was sent (ms): below it a hedge wins little. */
export const TAIL_HEDGE_FLOOR_MS = 250;
/** A call is hedged once it has taken this many times the fan-out's median. */
export const TAIL_HEDGE_FACTOR = 4;
/** No automatic hedge before this many calls of the fan-out have answered. */
export const TAIL_HEDGE_MIN_SAMPLES = 8;

/** The call-option key under which a fan-out passes its {@link TailHedge} (not public API). */
export const TAIL_HEDGE: unique symbol = Symbol('aurora-swarm.tailHedge');

// Times to headers in logarithmic buckets 2^(1/16) (4.4%) wide, 1 ms to ~2^27 ms (37 h).
const BUCKETS_PER_DOUBLING = 16;
const BUCKET_COUNT = 27 * BUCKETS_PER_DOUBLING + 1;

/** One fan-out's view of its calls' times to response headers, and when to hedge the rest. */
export class TailHedge {
  #drained = false;
  /** Calls begun that have not ended without an answer (running ones count as slowest). */
  #counted = 0;
  #samples = 0;
  readonly #buckets = new Uint32Array(BUCKET_COUNT);

  /** Every prompt of the fan-out has been handed to a call: hedges may go out from now. */
  drain(): void {
    this.#drained = true;
  }

  get drained(): boolean {
    return this.#drained;
  }

  /** A call of the fan-out starts. */
  callStarted(): void {
    this.#counted++;
  }

  /** A call ended: `headersAfterMs` from its send to its 2xx headers, or `undefined` (failed). */
  callEnded(headersAfterMs: number | undefined): void {
    if (headersAfterMs === undefined) {
      this.#counted--;
      return;
    }
    this.#samples++;
    const bucket =
      headersAfterMs <= 1
        ? 0
        : Math.min(BUCKET_COUNT - 1, Math.ceil(BUCKETS_PER_DOUBLING * Math.log2(headersAfterMs)));
    this.#buckets[bucket] = (this.#buckets[bucket] as number) + 1;
  }

  /**
   * How long after its send a call with no headers yet is hedged (ms), or `undefined` while
   * no hedge may go out: prompts still wait for a slot, or the median is not known yet.
   */
  hedgeAfterMs(): number | undefined {
    if (!this.#drained) return undefined;
    const median = this.#median();
    if (median === undefined) return undefined;
    return Math.max(TAIL_HEDGE_FLOOR_MS, TAIL_HEDGE_FACTOR * median);
  }

  /** The median time to headers (ms, rounded up to its bucket), running calls counted as slowest. */
  #median(): number | undefined {
    const rank = Math.ceil(this.#counted / 2);
    if (this.#samples < TAIL_HEDGE_MIN_SAMPLES || this.#samples < rank) return undefined;
    let seen = 0;
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      seen += this.#buckets[bucket] as number;
      if (seen >= rank) return 2 ** (bucket / BUCKETS_PER_DOUBLING);
    }
    return undefined;
  }
}
