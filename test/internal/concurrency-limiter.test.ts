import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConcurrencyLimiter } from '../../src/internal/concurrency-limiter.js';

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
