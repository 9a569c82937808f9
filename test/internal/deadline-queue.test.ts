import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addDeadline,
  cancelDeadline,
  DeadlineEntry,
  pendingDeadlines,
} from '../../src/internal/deadline-queue.js';

class Entry extends DeadlineEntry {
  #firedNow: (() => void) | undefined;
  /** Settles once this entry's deadline has fired. */
  readonly hasFired = new Promise<void>((resolve) => {
    this.#firedNow = resolve;
  });

  constructor(
    readonly name: string,
    readonly fired: string[],
  ) {
    super();
  }
  onDeadline(): void {
    this.fired.push(this.name);
    this.#firedNow?.();
  }
}

// Bounded: a deadline that never fires fails the test instead of hanging the suite.
test('deadlines fire in order per duration; cancelled ones never; the queue empties', {
  timeout: 10_000,
}, async () => {
  const fired: string[] = [];
  const a = new Entry('a', fired);
  const b = new Entry('b', fired);
  const c = new Entry('c', fired);
  const long = new Entry('long', fired);
  addDeadline(a, 5);
  addDeadline(b, 5);
  addDeadline(c, 5);
  addDeadline(long, 60_000);
  cancelDeadline(b);
  cancelDeadline(b);
  assert.equal(pendingDeadlines(), 3);
  // b, cancelled, would have fired between a and c.
  await c.hasFired;
  assert.deepEqual(fired, ['a', 'c']);
  assert.equal(pendingDeadlines(), 1);
  cancelDeadline(long);
  assert.equal(pendingDeadlines(), 0, 'nothing left to keep the process alive');
});

test('an entry added again moves to its new deadline', async () => {
  const fired: string[] = [];
  const entry = new Entry('moved', fired);
  addDeadline(entry, 5);
  addDeadline(entry, 60_000);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(fired, []);
  assert.equal(pendingDeadlines(), 1);
  cancelDeadline(entry);
});

// Bounded: a deadline that never fires fails the test instead of hanging the suite.
test('a deadline added from a firing one is kept', { timeout: 10_000 }, async () => {
  const fired: string[] = [];
  const second = new Entry('second', fired);
  class Chain extends Entry {
    override onDeadline(): void {
      super.onDeadline();
      addDeadline(second, 5);
    }
  }
  addDeadline(new Chain('first', fired), 5);
  await second.hasFired;
  assert.deepEqual(fired, ['first', 'second']);
  assert.equal(pendingDeadlines(), 0);
});
