import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { ConcurrencyLimiter } from '../../src/internal/concurrency-limiter.js';
import { sleep } from '../../src/internal/sleep.js';

test('limiter: FIFO hand-over, never above capacity, aborted waiters leave the queue', async () => {
  const limiter = new ConcurrencyLimiter(2);
  assert.equal(await limiter.acquire(), true);
  assert.equal(await limiter.acquire(), true);
  const order: string[] = [];
  const controller = new AbortController();
  const first = limiter.acquire().then((ok) => order.push(`first ${ok}`));
  const aborted = limiter.acquire(controller.signal).then((ok) => order.push(`aborted ${ok}`));
  const third = limiter.acquire().then((ok) => order.push(`third ${ok}`));
  assert.equal(limiter.waiting, 3);
  controller.abort();
  await aborted;
  limiter.release();
  limiter.release();
  await Promise.all([first, third]);
  assert.deepEqual(order, ['aborted false', 'first true', 'third true']);
  assert.equal(limiter.active, 2);
  assert.equal(limiter.peakActive, 2);
  limiter.release();
  limiter.release();
  assert.equal(limiter.active, 0);
  assert.equal(await limiter.acquire(AbortSignal.abort()), false);
});

test('limiter: a long queue drains in order', async () => {
  const limiter = new ConcurrencyLimiter(1);
  await limiter.acquire();
  const served: number[] = [];
  const waiters = Array.from({ length: 3000 }, (_, index) =>
    limiter.acquire().then(() => {
      served.push(index);
      limiter.release();
    }),
  );
  limiter.release();
  await Promise.all(waiters);
  assert.deepEqual(
    served,
    Array.from({ length: 3000 }, (_, index) => index),
  );
  assert.equal(limiter.active, 0);
});

test('limiter: waiters sharing a signal add one abort listener to it, not one each', async () => {
  const limiter = new ConcurrencyLimiter(1);
  assert.equal(limiter.tryAcquire(), true);
  const controller = new AbortController();
  const waiting = Array.from({ length: 100 }, () => limiter.acquire(controller.signal));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  limiter.release(); // the first waiter gets the slot
  controller.abort();
  const results = await Promise.all(waiting);
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(results[0], true);
  limiter.release();
  assert.equal(limiter.tryAcquire(), true, 'aborted waiters left the queue');
});

test('sleep: sleepers sharing a signal add one abort listener; abort wakes them all with false', async () => {
  const controller = new AbortController();
  const sleeping = Array.from({ length: 50 }, () => sleep(60_000, controller.signal));
  assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
  controller.abort();
  assert.deepEqual(new Set(await Promise.all(sleeping)), new Set([false]));
  assert.equal(await sleep(1, new AbortController().signal), true);
});
