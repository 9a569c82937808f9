/**
 * runWindowedEach, the callback form of the windowed scheduler (scatterGather's path). The
 * patterns' tests cover window, order and abort through scatterGather; these cover the ends:
 * failures, the source closed, a pending next() on abort.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWindowed, runWindowedEach } from '../../src/internal/windowed-stream.js';

/** A task that resolves when told to. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('runWindowedEach', () => {
  test('delivers every result with its index, never more than window in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: Array<[number, string, string]> = [];
    await runWindowedEach(
      ['a', 'b', 'c', 'd', 'e'],
      {
        window: 2,
        signal: undefined,
        launch: async (item) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight--;
          return item.toUpperCase();
        },
      },
      (index, item, result) => seen.push([index, item, result]),
    );
    assert.equal(peak, 2);
    assert.deepEqual(
      seen.sort((x, y) => x[0] - y[0]),
      [
        [0, 'a', 'A'],
        [1, 'b', 'B'],
        [2, 'c', 'C'],
        [3, 'd', 'D'],
        [4, 'e', 'E'],
      ],
    );
  });

  test('a launch that throws, a task that rejects, a callback that throws: the run rejects and the others are aborted', async () => {
    for (const where of ['launch', 'task', 'callback'] as const) {
      const signals: AbortSignal[] = [];
      const hung = deferred<string>();
      const run = runWindowedEach(
        ['slow', 'bad'],
        {
          window: 2,
          signal: undefined,
          launch: (item, _index, signal) => {
            signals.push(signal);
            if (item === 'slow') return hung.promise;
            if (where === 'launch') throw new Error(`boom in ${where}`);
            if (where === 'task') return Promise.reject(new Error(`boom in ${where}`));
            return Promise.resolve('bad');
          },
        },
        (_index, item) => {
          if (item === 'bad') throw new Error(`boom in ${where}`);
        },
      );
      await assert.rejects(run, new RegExp(`boom in ${where}`));
      assert.ok(signals[0]?.aborted, `the call in flight is aborted (${where})`);
      hung.resolve('late');
    }
  });

  test('after the caller aborts, nothing new starts, calls in flight are delivered, the source is closed', async () => {
    const controller = new AbortController();
    let closed = false;
    let pulled = 0;
    function* source() {
      try {
        for (let index = 0; index < 100; index++) {
          pulled++;
          yield index;
        }
      } finally {
        closed = true;
      }
    }
    const tasks = [deferred<number>(), deferred<number>()];
    const delivered: number[] = [];
    const run = runWindowedEach(
      source(),
      {
        window: 2,
        signal: controller.signal,
        launch: (item) => (tasks[item] as { promise: Promise<number> }).promise,
      },
      (_index, _item, result) => delivered.push(result),
    );
    controller.abort();
    tasks[0]?.resolve(10);
    tasks[1]?.resolve(11);
    await run;
    assert.deepEqual(delivered.sort(), [10, 11]);
    assert.equal(pulled, 2, 'no item pulled after the abort');
    assert.ok(closed, 'the source was closed');
  });

  test('an abort while the async source is pulling ends the run without waiting for that item', async () => {
    const controller = new AbortController();
    const next = deferred<IteratorResult<number>>();
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({ next: () => next.promise }),
    };
    const run = runWindowedEach(
      source,
      { window: 4, signal: controller.signal, launch: async (item) => item },
      () => assert.fail('nothing is delivered'),
    );
    controller.abort();
    await run;
    next.resolve({ done: false, value: 1 });
  });

  test('an async source that fails rejects the run', async () => {
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('read failed')) }),
    };
    await assert.rejects(
      runWindowedEach(source, { window: 2, signal: undefined, launch: async (item) => item }, () =>
        assert.fail('nothing is delivered'),
      ),
      /read failed/,
    );
  });

  test('gives the same results as the generator form', async () => {
    const options = {
      window: 3,
      signal: undefined,
      launch: async (item: number) => item * 2,
    };
    const viaEach: number[] = [];
    await runWindowedEach([1, 2, 3, 4, 5, 6, 7], options, (_index, _item, result) =>
      viaEach.push(result),
    );
    const viaGenerator: number[] = [];
    for await (const { result } of runWindowed([1, 2, 3, 4, 5, 6, 7], options)) {
      viaGenerator.push(result);
    }
    assert.deepEqual(viaEach.sort(), viaGenerator.sort());
  });
});
