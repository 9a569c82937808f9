/**
 * Timeouts of many concurrent calls without a Node timer each: the calls with the same
 * duration wait in one list (sorted by deadline, since they are appended as they start),
 * watched by one Node timer set for the earliest deadline.
 *
 * Internal. Why: every request of a scatter arms a timeout and almost always cancels it; a
 * `setTimeout` per request is a `Timeout` object with its async-hooks bookkeeping plus a
 * closure, ~400 bytes of heap that live as long as the request, and those are what the young
 * generation promotes while hundreds of requests are in flight (bench/README.md, "Client").
 * Here an entry is the caller's own object (a subclass of {@link DeadlineEntry}); adding and
 * removing it is two pointer writes. Node's own timers work the same way (one list per
 * duration), with an object per timer.
 *
 * A deadline fires within a millisecond of `durationMs` after `add`, as a `setTimeout` does;
 * delays above what a Node timer holds are waited out in steps (timer-limit.ts).
 */
import { performance } from 'node:perf_hooks';
import { MAX_TIMER_DELAY_MS } from './timer-limit.js';

/** Something with a deadline: extend it and implement {@link onDeadline}. */
export abstract class DeadlineEntry {
  /** @internal the queue's links and the deadline (`performance.now()` time). */
  deadlineAt = 0;
  /** @internal */
  deadlineNext: DeadlineEntry | undefined;
  /** @internal */
  deadlinePrev: DeadlineEntry | undefined;
  /** @internal the list holding this entry, while it waits. */
  deadlineList: DeadlineList | undefined;

  /** The deadline passed (the entry has left its list). */
  abstract onDeadline(): void;
}

/** The entries of one duration, oldest first, and the timer for the first. */
class DeadlineList {
  readonly durationMs: number;
  head: DeadlineEntry | undefined;
  tail: DeadlineEntry | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (`performance.now()` time). */
  #timerAt = 0;

  constructor(durationMs: number) {
    this.durationMs = durationMs;
  }

  add(entry: DeadlineEntry, nowMs: number): void {
    entry.deadlineAt = nowMs + this.durationMs;
    entry.deadlineList = this;
    entry.deadlinePrev = this.tail;
    entry.deadlineNext = undefined;
    if (this.tail === undefined) this.head = entry;
    else this.tail.deadlineNext = entry;
    this.tail = entry;
    if (this.#timer === undefined) this.#arm(nowMs);
  }

  remove(entry: DeadlineEntry): void {
    const { deadlinePrev: prev, deadlineNext: next } = entry;
    if (prev === undefined) this.head = next;
    else prev.deadlineNext = next;
    if (next === undefined) this.tail = prev;
    else next.deadlinePrev = prev;
    entry.deadlineNext = undefined;
    entry.deadlinePrev = undefined;
    entry.deadlineList = undefined;
    if (this.head === undefined) this.#stop();
  }

  /** Set the timer for the head's deadline (a later head keeps an earlier timer: it re-arms). */
  #arm(nowMs: number): void {
    const head = this.head;
    if (head === undefined) return;
    const delayMs = Math.min(MAX_TIMER_DELAY_MS, Math.max(0, head.deadlineAt - nowMs));
    this.#timerAt = nowMs + delayMs;
    this.#timer = setTimeout(this.#fire, Math.ceil(delayMs));
  }

  #stop(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    lists.delete(this.durationMs);
  }

  #fire = (): void => {
    this.#timer = undefined;
    // The timer's own clock (libuv's loop time, whole ms; or a test's mocked timers) counts:
    // it may run a little behind performance.now(), and a deadline within 1 ms is due.
    const nowMs = Math.max(performance.now(), this.#timerAt);
    let entry = this.head;
    while (entry !== undefined && entry.deadlineAt - nowMs < 1) {
      this.remove(entry);
      entry.onDeadline();
      entry = this.head;
    }
    if (this.head !== undefined) {
      if (this.#timer === undefined) this.#arm(nowMs);
    } else if (lists.get(this.durationMs) === this) {
      lists.delete(this.durationMs);
    }
  };
}

const lists = new Map<number, DeadlineList>();

/** Call `entry.onDeadline()` `durationMs` from now, unless {@link cancelDeadline} comes first. */
export function addDeadline(entry: DeadlineEntry, durationMs: number): void {
  if (entry.deadlineList !== undefined) entry.deadlineList.remove(entry);
  let list = lists.get(durationMs);
  if (list === undefined) {
    list = new DeadlineList(durationMs);
    lists.set(durationMs, list);
  }
  list.add(entry, performance.now());
}

/** Forget `entry`'s deadline. Idempotent. */
export function cancelDeadline(entry: DeadlineEntry): void {
  entry.deadlineList?.remove(entry);
}

/** Entries waiting, over all durations (tests). @internal */
export function pendingDeadlines(): number {
  let count = 0;
  for (const list of lists.values()) {
    for (let entry = list.head; entry !== undefined; entry = entry.deadlineNext) count++;
  }
  return count;
}
