import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConnectionLimiter } from '../../../src/proxy/agents/connection-limiter.js';

describe('ConnectionLimiter', () => {
  test('hands slots out up to the limit, then queues FIFO and passes slots on release', async () => {
    const limiter = new ConnectionLimiter(2);
    assert.equal(limiter.tryAcquire(), true);
    assert.equal(limiter.tryAcquire(), true);
    assert.equal(limiter.tryAcquire(), false);
    const started: string[] = [];
    const first = { start: () => started.push('first') };
    const second = { start: () => started.push('second') };
    limiter.enqueue(first);
    limiter.enqueue(second);
    assert.equal(limiter.queued, 2);
    limiter.release();
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(started, ['first']);
    assert.equal(limiter.active, 2);
    assert.equal(limiter.tryAcquire(), false, 'nobody jumps the queue');
    limiter.release();
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(started, ['first', 'second']);
    limiter.release();
    limiter.release();
    assert.equal(limiter.active, 0);
  });

  test('a cancelled waiter never starts and takes no slot', async () => {
    const limiter = new ConnectionLimiter(1);
    assert.equal(limiter.tryAcquire(), true);
    let started = false;
    const waiter = {
      start: () => {
        started = true;
      },
    };
    limiter.enqueue(waiter);
    assert.equal(limiter.cancel(waiter), true);
    assert.equal(limiter.cancel(waiter), false);
    limiter.release();
    await new Promise((resolve) => process.nextTick(resolve));
    assert.equal(started, false);
    assert.equal(limiter.active, 0);
    assert.equal(limiter.tryAcquire(), true);
  });
});
