import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import {
  type ScatterGatherStreamResult,
  type ScatterInput,
  scatterGatherStream,
} from '../../src/patterns/scatter-gather-stream.js';
import type { SwarmPool } from '../../src/pool/types.js';
import { FakePool } from './fake-pool.js';

async function collect(stream: AsyncIterable<ScatterGatherStreamResult>) {
  const results: ScatterGatherStreamResult[] = [];
  for await (const result of stream) results.push(result);
  return results;
}

describe('scatterGatherStream', () => {
  test('yields each result as it completes, with its input index', async () => {
    const pool = new FakePool({ size: 3, manual: true });
    const iterator = scatterGatherStream(pool, ['a', 'b', 'c'])[Symbol.asyncIterator]();
    // Nothing is sent before the first pull of the iterator.
    const first = iterator.next();
    const calls = await Promise.all([0, 1, 2].map((sequence) => pool.call(sequence)));
    calls[2]?.respond('C');
    assert.deepEqual((await first).value, {
      index: 2,
      response: { success: true, text: 'C', agentIndex: 2, globalIndex: 2 },
    });
    calls[0]?.respond('A');
    assert.equal((await iterator.next()).value?.index, 0);
    calls[1]?.respond('B');
    assert.equal((await iterator.next()).value?.index, 1);
    assert.equal((await iterator.next()).done, true);
  });

  test('pulls the input lazily: never more than the window ahead of the results', async () => {
    const pool = new FakePool({ size: 4 });
    let pulled = 0;
    let maximumAhead = 0;
    let consumed = 0;
    function* prompts(): Generator<string> {
      for (let index = 0; index < 1000; index++) {
        pulled += 1;
        maximumAhead = Math.max(maximumAhead, pulled - consumed);
        yield `p${index}`;
      }
    }
    for await (const result of scatterGatherStream(pool, prompts(), { window: 8 })) {
      consumed += 1;
      assert.equal(result.response.text, `agent ${result.index % 4}: p${result.index}`);
    }
    assert.equal(consumed, 1000);
    assert.ok(maximumAhead <= 9, `pulled ${maximumAhead} items ahead of the consumer`);
    assert.ok(pool.peakInFlight <= 8);
  });

  test('accepts async iterables, ids, per-item agents and call options', async () => {
    const pool = new FakePool({ size: 3 });
    async function* items(): AsyncGenerator<ScatterInput> {
      yield { id: 'line-7', prompt: 'x', agentIndex: 2, callOptions: { maxTokens: 5 } };
      yield 'y';
      yield { prompt: 'z' };
    }
    const results = await collect(scatterGatherStream(pool, items(), { timeoutMs: 1000 }));
    results.sort((left, right) => left.index - right.index);
    assert.deepEqual(
      results.map((result) => [result.index, result.id, result.response.agentIndex]),
      [
        [0, 'line-7', 2],
        [1, undefined, 1],
        [2, undefined, 2],
      ],
    );
    assert.equal(pool.calls[0]?.options?.maxTokens, 5);
    assert.equal(pool.calls[0]?.options?.timeoutMs, 1000);
    assert.ok(pool.calls[0]?.options?.signal instanceof AbortSignal);
  });

  test('does not hold completed results behind a slow source', async () => {
    const pool = new FakePool({ size: 2 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* items(): AsyncGenerator<string> {
      yield 'first';
      await gate;
      yield 'second';
    }
    const iterator = scatterGatherStream(pool, items())[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).value?.response.text, 'agent 0: first');
    release();
    assert.equal((await iterator.next()).value?.response.text, 'agent 1: second');
    assert.equal((await iterator.next()).done, true);
  });

  test('abort: stops pulling, yields the in-flight calls as aborted, then ends', async () => {
    const pool = new FakePool({ size: 2, manual: true });
    const controller = new AbortController();
    let pulled = 0;
    function* prompts(): Generator<string> {
      for (;;) {
        pulled += 1;
        yield 'again';
      }
    }
    const stream = scatterGatherStream(pool, prompts(), { window: 2, signal: controller.signal });
    const iterator = stream[Symbol.asyncIterator]();
    const pending = iterator.next();
    (await pool.call(0)).respond('done');
    assert.equal((await pending).value?.response.text, 'done');
    await pool.call(2);
    controller.abort();
    const rest = [];
    for (let step = await iterator.next(); !step.done; step = await iterator.next())
      rest.push(step.value);
    assert.deepEqual(rest.map((result) => result.response.failureKind).sort(), [
      'aborted',
      'aborted',
    ]);
    assert.equal(pool.calls.length, 3);
    assert.equal(pulled, 3);
  });

  test('leaving the loop early aborts the calls still in flight', async () => {
    const pool = new FakePool({ size: 3, manual: true });
    const stream = scatterGatherStream(pool, ['a', 'b', 'c']);
    const calls = Promise.all([0, 1, 2].map((sequence) => pool.call(sequence)));
    void calls.then((all) => all[0]?.respond('A'));
    for await (const result of stream) {
      assert.equal(result.response.text, 'A');
      break;
    }
    const [, second, third] = await calls;
    assert.equal(second?.settled, true);
    assert.equal(third?.settled, true);
    assert.equal(second?.options?.signal?.aborted, true);
  });

  test('a malformed item throws InvalidOptionError and aborts the rest', async () => {
    const pool = new FakePool({ size: 2, manual: true });
    const items: unknown[] = ['ok', { prompt: 'x', agentIndex: 5 }];
    await assert.rejects(
      collect(scatterGatherStream(pool, items as ScatterInput[])),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(
          error.message,
          /prompts\[1\]\.agentIndex must be an integer in \[0, 2\).*got 5/,
        );
        return true;
      },
    );
    assert.equal(pool.calls[0]?.settled, true);
    await assert.rejects(
      collect(scatterGatherStream(pool, [42 as unknown as string])),
      /prompts\[0\] must be a string or/,
    );
    await assert.rejects(
      collect(scatterGatherStream(pool, 'abc' as unknown as string[])),
      /prompts must be an iterable/,
    );
  });

  test('an error from the pool ends the stream with that error', async () => {
    const broken = {
      size: 1,
      concurrency: 4,
      post: () => Promise.reject(new Error('pool closed')),
    } as unknown as SwarmPool;
    await assert.rejects(collect(scatterGatherStream(broken, ['a'])), /pool closed/);
  });
});
