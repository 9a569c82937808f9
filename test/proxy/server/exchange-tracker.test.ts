import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ExchangeTracker } from '../../../src/proxy/server/exchange-tracker.js';

const LONG_GRACE_MS = 60_000;

function settled(promise: Promise<void>): { readonly done: boolean } {
  const state = { done: false };
  void promise.then(() => {
    state.done = true;
  });
  return state;
}

describe('ExchangeTracker', () => {
  test('counts the exchanges opened and not closed', () => {
    const tracker = new ExchangeTracker();
    assert.equal(tracker.open, 0);
    tracker.opened();
    tracker.opened();
    assert.equal(tracker.open, 2);
    tracker.closed();
    assert.equal(tracker.open, 1);
  });

  test('a wait with nothing open resolves at once', async () => {
    await new ExchangeTracker().waitUntilIdle(LONG_GRACE_MS);
  });

  test('a wait ends when the last open exchange closes, not before', async () => {
    const tracker = new ExchangeTracker();
    tracker.opened();
    tracker.opened();
    const wait = tracker.waitUntilIdle(LONG_GRACE_MS);
    const state = settled(wait);
    tracker.closed();
    await nextTurn();
    assert.equal(state.done, false, 'one exchange is still open');
    tracker.closed();
    await wait;
    assert.equal(tracker.open, 0);
  });

  test('a wait ends after the grace period with exchanges still open', async () => {
    const tracker = new ExchangeTracker();
    tracker.opened();
    await tracker.waitUntilIdle(0);
    assert.equal(tracker.open, 1);
  });

  test('stopWaiting ends a running wait now; without one it does nothing', async () => {
    const tracker = new ExchangeTracker();
    tracker.stopWaiting();
    tracker.opened();
    const wait = tracker.waitUntilIdle(LONG_GRACE_MS);
    tracker.stopWaiting();
    await wait;
    assert.equal(tracker.open, 1);
  });
});
