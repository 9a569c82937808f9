/**
 * The heap setting of the long-running CLI commands (`run`): grow V8's old generation by at
 * most half of what a full collection found alive, instead of up to four times.
 *
 * Why: a run's live heap is small and flat (the calls in flight, ~20 MB; its id sets live
 * outside the heap), but V8 sizes the next collection's limit from the live size and a factor
 * that reaches 4 on a machine with a large default heap limit (V8's heap-controller.cc,
 * `MaxGrowingFactor`), so the heap saw-tooths between ~20 and ~80 MB and the peak RSS of a run
 * depends on how long it ran: a 10,000-prompt run ended before its first big collection,
 * a 100,000-prompt one peaked ~45 MB higher. With a factor of 1.5 the heap stays near its
 * live size whatever the job's length (bench/README.md, "run memory"), for ~4× as many full
 * collections of a small heap (a few ms each, a few % of the client's CPU).
 *
 * `--heap-growing-percent` is read each time V8 computes the next limit (heap.cc,
 * `Heap::RecomputeLimits`), so it applies when set after start-up; it changes nothing else.
 * Only the CLI's own process sets it, never the library (a user's script keeps its own
 * settings: `node --heap-growing-percent=50 script.js` does the same there).
 */
import { setFlagsFromString } from 'node:v8';

/** Growth of the old generation over its live size after a full collection, in percent. */
export const RUN_HEAP_GROWING_PERCENT = 50;

/** Apply {@link RUN_HEAP_GROWING_PERCENT} to this process. */
export function useSteadyHeap(): void {
  setFlagsFromString(`--heap-growing-percent=${RUN_HEAP_GROWING_PERCENT}`);
}
