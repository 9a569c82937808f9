/**
 * Sliding-window scheduling shared by the patterns: at most `window` tasks in flight, the next
 * one started as soon as any finishes, results delivered in completion order — yielded by an
 * async generator (`runWindowed`), or handed to a callback the moment each task settles
 * (`runWindowedEach`, for callers that only store results: no generator step, promise or
 * microtask hop per result, which is most of what a 100,000-prompt `scatterGather` spends
 * above its HTTP client; bench/README.md, "Client").
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
 * The scheduler both forms drive: pulls items, starts tasks, hands each settled result to
 * `deliver`, and calls `onChange` whenever the driver may have something to do (a result, a
 * failure, an abort, an item pulled).
 */
class WindowedRun<TItem, TResult> {
  readonly #window: number;
  readonly #launch: WindowedStreamOptions<TItem, TResult>['launch'];
  readonly #onExhausted: (() => void) | undefined;
  readonly #iterator: Iterator<TItem> | AsyncIterator<TItem>;
  readonly #controller: AbortController;
  readonly #dispose: () => void;
  readonly #deliver: (index: number, item: TItem, result: TResult) => void;
  /** Results delivered but not taken by the consumer yet (they count against the window). */
  readonly #held: () => number;
  /** Refill as soon as a task settles (the callback form; the generator refills on take). */
  readonly #fillOnSettle: boolean;
  onChange: () => void = () => undefined;
  inFlight = 0;
  exhausted = false;
  pulling = false;
  failure: { error: unknown } | undefined;
  #nextIndex = 0;

  constructor(
    source: Iterable<TItem> | AsyncIterable<TItem>,
    options: WindowedStreamOptions<TItem, TResult>,
    deliver: (index: number, item: TItem, result: TResult) => void,
    held: () => number,
    fillOnSettle: boolean,
  ) {
    this.#window = options.window;
    this.#launch = options.launch;
    this.#onExhausted = options.onExhausted?.bind(options);
    const { controller, dispose } = linkAbortController(options.signal);
    this.#controller = controller;
    this.#dispose = dispose;
    this.#iterator = iteratorOf(source);
    this.#deliver = deliver;
    this.#held = held;
    this.#fillOnSettle = fillOnSettle;
    controller.signal.addEventListener('abort', () => this.onChange(), { once: true });
  }

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * Nothing is running or coming: every task settled, and the source is done or the signal
   * fired (a `next()` still pending then is not waited for: its item would be dropped).
   */
  get finished(): boolean {
    return this.inFlight === 0 && (this.exhausted || this.aborted);
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.#controller.abort(error);
    this.onChange();
  }

  /** Start tasks until the window is full (results not taken yet count against it). */
  fill(): void {
    while (
      !this.pulling &&
      !this.exhausted &&
      this.inFlight + this.#held() < this.#window &&
      !this.#controller.signal.aborted
    ) {
      this.#pull();
    }
  }

  /** The end of the run: stop what is in flight and close the source if it is not done. */
  async close(): Promise<void> {
    this.#dispose();
    // The consumer stopped early or something failed: in-flight calls must not keep running.
    if (this.inFlight > 0 || this.pulling) this.#controller.abort();
    if (!this.exhausted) {
      // A pending next() would make return() wait behind it; do not hold the caller for that.
      const closing = this.pulling ? undefined : this.#iterator.return?.();
      if (isPromiseLike(closing)) await Promise.resolve(closing).catch(() => undefined);
    }
  }

  #settle = (index: number, item: TItem, result: TResult): void => {
    this.inFlight -= 1;
    if (this.failure === undefined) {
      try {
        this.#deliver(index, item, result);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (this.#fillOnSettle) this.fill();
    }
    this.onChange();
  };

  #start(item: TItem): void {
    const index = this.#nextIndex++;
    let task: Promise<TResult>;
    try {
      task = this.#launch(item, index, this.#controller.signal);
    } catch (error) {
      this.fail(error);
      return;
    }
    this.inFlight += 1;
    task.then(
      (result) => this.#settle(index, item, result),
      (error: unknown) => {
        this.inFlight -= 1;
        this.fail(error);
      },
    );
  }

  #accept(step: IteratorResult<TItem>): void {
    if (step.done) {
      this.exhausted = true;
      this.#onExhausted?.();
    }
    // An item that arrives after an abort or a failure is dropped: it was never started.
    else if (!this.#controller.signal.aborted) this.#start(step.value);
  }

  #pull(): void {
    this.pulling = true;
    let step: IteratorResult<TItem> | Promise<IteratorResult<TItem>>;
    try {
      step = this.#iterator.next();
    } catch (error) {
      this.pulling = false;
      this.fail(error);
      return;
    }
    if (isPromiseLike<IteratorResult<TItem>>(step)) {
      step.then(
        (value) => {
          this.pulling = false;
          this.#accept(value);
          this.fill();
          this.onChange();
        },
        (error: unknown) => {
          this.pulling = false;
          this.exhausted = true;
          this.fail(error);
        },
      );
    } else {
      this.pulling = false;
      this.#accept(step);
    }
  }
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
  const completed: WindowedResult<TItem, TResult>[] = [];
  let wakeUp: (() => void) | undefined;
  const run = new WindowedRun<TItem, TResult>(
    source,
    options,
    (index, item, result) => {
      completed.push({ index, item, result });
    },
    // Results waiting for the consumer count against the window, so a slow consumer bounds
    // memory instead of letting finished results pile up.
    () => completed.length,
    false,
  );
  run.onChange = () => {
    const resolve = wakeUp;
    wakeUp = undefined;
    resolve?.();
  };
  try {
    while (true) {
      if (run.failure) throw run.failure.error;
      const ready = completed.shift();
      if (ready) {
        // Refill before handing the result over: the freed slot works while the consumer does.
        run.fill();
        yield ready;
        continue;
      }
      run.fill();
      if (run.failure || completed.length > 0) continue;
      if (run.finished) return;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
      });
    }
  } finally {
    await run.close();
  }
}

/**
 * `runWindowed` for a consumer that only stores results: `onResult` is called synchronously as
 * each task settles (a throw from it fails the run), and the returned promise resolves once
 * every task started has settled and no item is left (or the caller's signal stopped the
 * pulling), or rejects with the first failure (the tasks in flight are then aborted).
 */
export function runWindowedEach<TItem, TResult>(
  source: Iterable<TItem> | AsyncIterable<TItem>,
  options: WindowedStreamOptions<TItem, TResult>,
  onResult: (index: number, item: TItem, result: TResult) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let ended = false;
    const run = new WindowedRun<TItem, TResult>(source, options, onResult, () => 0, true);
    const end = (): void => {
      if (ended || (run.failure === undefined && !run.finished)) return;
      ended = true;
      const failure = run.failure;
      void run.close().then(() => (failure ? reject(failure.error) : resolve()));
    };
    run.onChange = end;
    run.fill();
    end();
  });
}
