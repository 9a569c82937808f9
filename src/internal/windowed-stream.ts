/**
 * Sliding-window scheduling shared by the patterns: at most `window` tasks in flight, the next
 * one started as soon as any finishes, results yielded in completion order.
 *
 * The source is pulled lazily (one item per free slot), so memory is O(window) whatever the
 * length of the source: this is what lets a job of millions of prompts run from one process.
 */
import { linkAbortController } from './linked-abort-controller.js';

/** A finished task: its position in the source, the item and what the task produced. */
export interface WindowedResult<TItem, TResult> {
  index: number;
  item: TItem;
  result: TResult;
}

/** How `runWindowed` runs each item. */
export interface WindowedStreamOptions<TItem, TResult> {
  /** Maximum tasks in flight; a positive integer. */
  window: number;
  /** The caller's signal: once aborted no further item is pulled or started. */
  signal: AbortSignal | undefined;
  /**
   * Start the task for one item. `signal` aborts when the caller's signal does, when the
   * consumer stops iterating early, or when another task failed. A synchronous throw or a
   * rejection ends the whole stream with that error (task failures should be values).
   */
  launch(item: TItem, index: number, signal: AbortSignal): Promise<TResult>;
  /** Called once the source is exhausted (every item has been started). */
  onExhausted?(): void;
}

function isPromiseLike<T>(value: unknown): value is PromiseLike<T> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}

function iteratorOf<TItem>(
  source: Iterable<TItem> | AsyncIterable<TItem>,
): Iterator<TItem> | AsyncIterator<TItem> {
  if (typeof (source as AsyncIterable<TItem>)[Symbol.asyncIterator] === 'function') {
    return (source as AsyncIterable<TItem>)[Symbol.asyncIterator]();
  }
  return (source as Iterable<TItem>)[Symbol.iterator]();
}

/**
 * Run `launch` over every item of `source` with at most `options.window` tasks in flight and
 * yield each result as soon as it is ready. After the caller's signal aborts, nothing new is
 * started; the tasks already in flight are yielded as they settle, then the stream ends.
 */
export async function* runWindowed<TItem, TResult>(
  source: Iterable<TItem> | AsyncIterable<TItem>,
  options: WindowedStreamOptions<TItem, TResult>,
): AsyncGenerator<WindowedResult<TItem, TResult>, void, undefined> {
  const { window, signal, launch, onExhausted } = options;
  const { controller, dispose } = linkAbortController(signal);
  const iterator = iteratorOf(source);
  const completed: WindowedResult<TItem, TResult>[] = [];
  let inFlight = 0;
  let nextIndex = 0;
  let exhausted = false;
  let pulling = false;
  let failure: { error: unknown } | undefined;
  let wakeUp: (() => void) | undefined;

  const wake = (): void => {
    const resolve = wakeUp;
    wakeUp = undefined;
    resolve?.();
  };
  const fail = (error: unknown): void => {
    failure ??= { error };
    controller.abort(error);
    wake();
  };
  controller.signal.addEventListener('abort', wake, { once: true });

  const start = (item: TItem): void => {
    const index = nextIndex++;
    let task: Promise<TResult>;
    try {
      task = launch(item, index, controller.signal);
    } catch (error) {
      fail(error);
      return;
    }
    inFlight += 1;
    task.then(
      (result) => {
        inFlight -= 1;
        completed.push({ index, item, result });
        wake();
      },
      (error: unknown) => {
        inFlight -= 1;
        fail(error);
      },
    );
  };
  const accept = (step: IteratorResult<TItem>): void => {
    if (step.done) {
      exhausted = true;
      onExhausted?.();
    }
    // An item that arrives after an abort or a failure is dropped: it was never started.
    else if (!controller.signal.aborted) start(step.value);
  };
  // Results waiting for the consumer count against the window, so a slow consumer bounds
  // memory instead of letting finished results pile up.
  const fill = (): void => {
    while (
      !pulling &&
      !exhausted &&
      inFlight + completed.length < window &&
      !controller.signal.aborted
    ) {
      pull();
    }
  };
  const pull = (): void => {
    pulling = true;
    let step: IteratorResult<TItem> | Promise<IteratorResult<TItem>>;
    try {
      step = iterator.next();
    } catch (error) {
      pulling = false;
      fail(error);
      return;
    }
    if (isPromiseLike<IteratorResult<TItem>>(step)) {
      step.then(
        (value) => {
          pulling = false;
          accept(value);
          fill();
          wake();
        },
        (error: unknown) => {
          pulling = false;
          exhausted = true;
          fail(error);
        },
      );
    } else {
      pulling = false;
      accept(step);
    }
  };

  try {
    while (true) {
      if (failure) throw failure.error;
      const ready = completed.shift();
      if (ready) {
        // Refill before handing the result over: the freed slot works while the consumer does.
        fill();
        yield ready;
        continue;
      }
      fill();
      if (failure || completed.length > 0) continue;
      if (inFlight === 0 && (exhausted || controller.signal.aborted)) return;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
      });
    }
  } finally {
    dispose();
    // The consumer stopped early or something failed: in-flight calls must not keep running.
    if (inFlight > 0 || pulling) controller.abort();
    if (!exhausted) {
      // A pending next() would make return() wait behind it; do not hold the caller for that.
      const closing = pulling ? undefined : iterator.return?.();
      if (isPromiseLike(closing)) await Promise.resolve(closing).catch(() => undefined);
    }
  }
}
