/**
 * The last few hundred samples of a quantity (latency, time to first byte) in a
 * fixed-size ring, for the percentiles of `/status`. Memory is bounded per agent
 * and allocated only once the agent has answered something; the percentiles are
 * computed when asked for, and cached until a new sample arrives, so an idle
 * agent costs nothing per `/status` request.
 */

/** Samples kept per ring: the percentiles describe the most recent ones. */
export const SAMPLE_RING_CAPACITY = 256;

/** The 50th, 90th and 99th percentiles of a ring, in the unit of its samples. */
export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

// One sort buffer shared by every ring: percentiles are computed one ring at a time.
const scratch = new Float64Array(SAMPLE_RING_CAPACITY);

function rounded(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A sliding window of the last {@link SAMPLE_RING_CAPACITY} samples. */
export class SampleRing {
  #samples: Float64Array | undefined;
  #count = 0;
  #next = 0;
  #cached: Percentiles | null = null;
  #cachedAt = -1;
  #version = 0;

  /** Record one sample (overwrites the oldest once the ring is full). */
  add(value: number): void {
    if (this.#samples === undefined) this.#samples = new Float64Array(SAMPLE_RING_CAPACITY);
    this.#samples[this.#next] = value;
    this.#next = this.#next + 1 === SAMPLE_RING_CAPACITY ? 0 : this.#next + 1;
    if (this.#count < SAMPLE_RING_CAPACITY) this.#count++;
    this.#version++;
  }

  /** Samples currently held (at most {@link SAMPLE_RING_CAPACITY}). */
  get size(): number {
    return this.#count;
  }

  /**
   * Nearest-rank percentiles of the samples held, rounded to 0.01; `null` when
   * there is none yet.
   */
  percentiles(): Percentiles | null {
    if (this.#samples === undefined || this.#count === 0) return null;
    if (this.#cachedAt === this.#version) return this.#cached;
    const count = this.#count;
    const sorted = scratch.subarray(0, count);
    sorted.set(this.#samples.subarray(0, count));
    sorted.sort();
    const at = (fraction: number): number =>
      rounded(sorted[Math.min(count - 1, Math.ceil(fraction * count) - 1)] as number);
    this.#cached = { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
    this.#cachedAt = this.#version;
    return this.#cached;
  }
}
