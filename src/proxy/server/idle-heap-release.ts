/**
 * After a burst, the heap's garbage is given back once the proxy is quiet.
 *
 * A burst (a broadcast and a scatter over 2,000 agents: tens of thousands of exchanges,
 * thousands of connections) grows the heap V8 keeps — garbage, and pages it has
 * committed — and V8 gives it back only when it next needs a full collection: measured,
 * the proxy's RSS went from 121 MB to 250 MB and then, idle, sometimes back to 142 MB
 * and sometimes on to 254 MB 30 s later (the health rounds add a little garbage every
 * 10 s), with ~20 MB of live data. So once no forwarded request has been open for
 * {@link QUIET_MS} and the heap V8 holds has grown by {@link GROWTH_BYTES} since the
 * last look, one full collection runs (tens of milliseconds at that size, while nothing
 * waits on the proxy): it compacts the heap and V8 hands the freed pages back to the
 * system within seconds.
 *
 * The collection is V8's own `gc()`, which Node exposes only behind a flag; the flag
 * is set at the first collection (`v8.setFlagsFromString('--expose-gc')` and
 * `vm.runInNewContext('gc')`, as Jest's leak detector does). Where that fails, nothing
 * is collected and the proxy runs as before.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ProxyLogger } from '../proxy-logger.js';

/** How long the proxy must have had no forwarded request open, in milliseconds. */
export const QUIET_MS = 2_000;
/** Heap growth since the last collection (or the start) that is worth one, in bytes. */
export const GROWTH_BYTES = 64 * 2 ** 20;
const CHECK_INTERVAL_MS = 1_000;

/** What the release reads and does (injected in tests). */
export interface HeapReleaseHooks {
  /** How long no exchange has been open, in milliseconds. */
  readonly quietForMs: () => number;
  /** Bytes the heap holds (committed: live data, garbage and free room). */
  readonly heapBytes?: () => number;
  /** One full collection; `undefined` when none can be run. */
  readonly collect?: (() => void) | undefined;
  readonly logger: ProxyLogger;
}

function heldHeapBytes(): number {
  return getHeapStatistics().total_heap_size;
}

let exposedGc: (() => void) | null | undefined;

/** V8's full collection, exposed on first use; `undefined` where it cannot be. */
export function fullCollection(): (() => void) | undefined {
  if (exposedGc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const gc: unknown = runInNewContext('gc');
      exposedGc = typeof gc === 'function' ? (gc as () => void) : null;
    } catch {
      exposedGc = null;
    }
  }
  return exposedGc ?? undefined;
}

/** Watches for a quiet proxy with a grown heap, once a second. */
export class IdleHeapRelease {
  readonly #hooks: HeapReleaseHooks;
  readonly #heapBytes: () => number;
  #baseline: number;
  #timer: NodeJS.Timeout | undefined;
  #collections = 0;

  constructor(hooks: HeapReleaseHooks) {
    this.#hooks = hooks;
    this.#heapBytes = hooks.heapBytes ?? heldHeapBytes;
    this.#baseline = this.#heapBytes();
  }

  /** Full collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  /** Check once a second (the timer never keeps the process alive). */
  start(): void {
    this.#baseline = this.#heapBytes();
    this.#timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Collect if the proxy is quiet and the heap grew enough; returns whether it did. */
  check(): boolean {
    if (this.#hooks.quietForMs() < QUIET_MS) return false;
    const before = this.#heapBytes();
    if (before - this.#baseline < GROWTH_BYTES) {
      // V8 collected by itself meanwhile: measure growth from there.
      this.#baseline = Math.min(this.#baseline, before);
      return false;
    }
    const collect = 'collect' in this.#hooks ? this.#hooks.collect : fullCollection();
    if (collect === undefined) return false;
    const startedAt = performance.now();
    collect();
    this.#collections++;
    this.#baseline = this.#heapBytes();
    const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    this.#hooks.logger.debug(
      `quiet after a burst: heap ${mb(before)} MB -> ${mb(this.#baseline)} MB in one collection (${(performance.now() - startedAt).toFixed(0)} ms)`,
    );
    return true;
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
