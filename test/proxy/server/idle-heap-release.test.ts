import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyLogger } from '../../../src/proxy/proxy-logger.js';
import { ExchangeTracker } from '../../../src/proxy/server/exchange-tracker.js';
import {
  fullCollection,
  GROWTH_BYTES,
  IdleHeapRelease,
  QUIET_MS,
} from '../../../src/proxy/server/idle-heap-release.js';

function scripted(quietMs: number, heap: { used: number }, collected: string[]) {
  const lines: string[] = [];
  const release = new IdleHeapRelease({
    quietForMs: () => quietMs,
    heapBytes: () => heap.used,
    collect: () => {
      collected.push('gc');
      heap.used = 30 * 2 ** 20;
    },
    logger: new ProxyLogger('DEBUG', (line) => lines.push(line)),
  });
  return { release, lines };
}

describe('IdleHeapRelease', () => {
  test('collects once the proxy is quiet and the heap grew, and not again until it grows', () => {
    const heap = { used: 30 * 2 ** 20 };
    const collected: string[] = [];
    const { release, lines } = scripted(QUIET_MS, heap, collected);
    assert.equal(release.check(), false, 'no growth yet');
    heap.used += GROWTH_BYTES;
    assert.equal(release.check(), true);
    assert.deepEqual(collected, ['gc']);
    assert.match(lines.at(-1) ?? '', /quiet after a burst: heap 94 MB -> 30 MB in one collection/);
    assert.equal(release.check(), false, 'the baseline is the heap after the collection');
    assert.equal(release.collections, 1);
  });

  test('never while a request is open or the last one ended less than 2 s ago', () => {
    const heap = { used: 10 * 2 ** 20 };
    const collected: string[] = [];
    const { release } = scripted(QUIET_MS - 1, heap, collected);
    heap.used += 10 * GROWTH_BYTES;
    assert.equal(release.check(), false);
    assert.deepEqual(collected, []);
  });

  test('growth is measured from the lowest heap seen (V8 may collect by itself)', () => {
    const heap = { used: 200 * 2 ** 20 };
    const collected: string[] = [];
    const { release } = scripted(QUIET_MS, heap, collected);
    heap.used = 40 * 2 ** 20;
    assert.equal(release.check(), false);
    heap.used = 40 * 2 ** 20 + GROWTH_BYTES;
    assert.equal(release.check(), true);
  });

  test("V8's full collection can be had at run time, without a startup flag", () => {
    const gc = fullCollection();
    assert.equal(typeof gc, 'function');
    gc?.();
  });
});

describe('ExchangeTracker.quietForMs', () => {
  test('0 while an exchange is open, the time since the last one closed otherwise', () => {
    const tracker = new ExchangeTracker();
    tracker.opened();
    assert.equal(tracker.quietForMs(performance.now() + 10_000), 0);
    tracker.closed();
    const now = performance.now();
    assert.ok(tracker.quietForMs(now + 5_000) >= 5_000);
  });
});
