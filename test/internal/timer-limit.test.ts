/**
 * Timeouts longer than a Node timer holds (2^31 − 1 ms, about 24.8 days): without care they
 * fire after 1 ms, so a pool given "practically no timeout" failed every call at once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CallSignal } from '../../src/internal/call-signal.js';
import { sleep } from '../../src/internal/sleep.js';
import { MAX_TIMER_DELAY_MS } from '../../src/internal/timer-limit.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

const LONG_MS = 2 ** 31; // one past what a timer holds

describe('timeouts longer than a Node timer holds', () => {
  test('a CallSignal of 2^31 ms is not timed out while a 20 ms timer runs', async () => {
    const call = new CallSignal(LONG_MS, undefined);
    try {
      // An overflowed timer would have been armed first, for 1 ms: it would fire before this one.
      await sleep(20);
      assert.equal(call.signal.aborted, false);
    } finally {
      call.dispose();
    }
  });

  test('a sleep of 2^31 ms has not ended while a 20 ms timer runs', async () => {
    const controller = new AbortController();
    let ended = false;
    const long = sleep(LONG_MS, controller.signal).then((passed) => {
      ended = passed;
    });
    await sleep(20);
    assert.equal(ended, false);
    controller.abort();
    await long;
    assert.equal(ended, false, 'the abort ends it, as false');
  });

  test('long ones still end, in steps: CallSignal and sleep at MAX + 5 ms', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const call = new CallSignal(MAX_TIMER_DELAY_MS + 5, undefined);
    let slept: boolean | undefined;
    void sleep(MAX_TIMER_DELAY_MS + 5).then((passed) => {
      slept = passed;
    });
    t.mock.timers.tick(MAX_TIMER_DELAY_MS);
    assert.equal(call.signal.aborted, false);
    t.mock.timers.tick(4);
    assert.equal(call.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal(call.signal.aborted, true);
    assert.equal(call.timedOut, true);
    await Promise.resolve();
    assert.equal(slept, true);
    call.dispose();
  });

  test('a pool with timeoutMs 2^31 answers a call that takes 20 ms', async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { latencyMs: 20 } });
    t.after(() => swarm.close());
    const pool = new VLLMPool({ endpoints: swarm.endpoints, timeoutMs: LONG_MS });
    t.after(() => pool.close());
    const response = await pool.post(0, 'hello');
    assert.equal(response.success, true, response.error);
    const raw = await pool.request(0, '/health');
    assert.equal(raw.status, 200);
  });
});
