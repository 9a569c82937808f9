import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { broadcast } from '../../src/patterns/broadcast.js';
import { mapGather } from '../../src/patterns/map-gather.js';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import { FakePool } from './fake-pool.js';

describe('scatterGather', () => {
  test('prompt i goes to agent i % size, answers in input order', async () => {
    const pool = new FakePool({ size: 3 });
    const prompts = ['p0', 'p1', 'p2', 'p3', 'p4'];
    const responses = await scatterGather(pool, prompts);
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.text]),
      [
        [0, 'agent 0: p0'],
        [1, 'agent 1: p1'],
        [2, 'agent 2: p2'],
        [0, 'agent 0: p3'],
        [1, 'agent 1: p4'],
      ],
    );
  });

  test('keeps at most window calls in flight and passes call options through', async () => {
    const pool = new FakePool({ size: 4, concurrency: 3, manual: true });
    const prompts = Array.from({ length: 20 }, (_, index) => `p${index}`);
    const done = scatterGather(pool, prompts, { maxTokens: 7, extraBody: { temperature: 0 } });
    for (let sequence = 0; sequence < prompts.length; sequence++) {
      const call = await pool.call(sequence);
      assert.ok(pool.inFlight <= 3);
      assert.equal(call.options?.maxTokens, 7);
      assert.deepEqual(call.options?.extraBody, { temperature: 0 });
      call.respond(call.prompt);
    }
    const responses = await done;
    assert.equal(pool.peakInFlight, 3);
    assert.deepEqual(
      responses.map((response) => response.text),
      prompts,
    );
  });

  test('a slow call does not hold back the rest', async () => {
    const pool = new FakePool({ size: 2, manual: true });
    const prompts = ['slow', 'a', 'b', 'c', 'd'];
    const done = scatterGather(pool, prompts, { window: 2 });
    const slow = await pool.call(0);
    // Every other prompt goes out and completes while the first is still pending.
    for (let sequence = 1; sequence < prompts.length; sequence++) {
      const call = await pool.call(sequence);
      assert.equal(slow.settled, false);
      call.respond(`done ${call.prompt}`);
    }
    slow.respond('done slow');
    const responses = await done;
    assert.deepEqual(
      responses.map((response) => response.text),
      ['done slow', 'done a', 'done b', 'done c', 'done d'],
    );
  });

  test('carries failures as values in their place', async () => {
    const pool = new FakePool({
      size: 3,
      answer: (globalIndex, prompt) =>
        globalIndex === 1 ? { error: 'timeout after 5000 ms', failureKind: 'timeout' } : prompt,
    });
    const responses = await scatterGather(pool, ['a', 'b', 'c']);
    assert.deepEqual(
      responses.map((response) => [response.success, response.failureKind]),
      [
        [true, undefined],
        [false, 'timeout'],
        [true, undefined],
      ],
    );
    assert.equal(responses[1]?.error, 'timeout after 5000 ms');
  });

  test('abort: stops sending, in-flight calls get the signal, unsent prompts are reported', async () => {
    const pool = new FakePool({ size: 2, manual: true });
    const controller = new AbortController();
    const done = scatterGather(pool, ['a', 'b', 'c', 'd', 'e'], {
      window: 2,
      signal: controller.signal,
    });
    const first = await pool.call(0);
    await pool.call(1);
    first.respond('answer a');
    await pool.call(2);
    controller.abort();
    const responses = await done;
    assert.equal(pool.calls.length, 3);
    assert.equal(responses[0]?.text, 'answer a');
    assert.deepEqual(
      responses.slice(1).map((response) => [response.success, response.failureKind]),
      Array.from({ length: 4 }, () => [false, 'aborted']),
    );
    assert.equal(responses[3]?.globalIndex, -1);
    assert.equal(responses[3]?.agentIndex, 1);
    assert.match(responses[3]?.error ?? '', /not sent/);
  });

  test('an already aborted signal sends nothing', async () => {
    const pool = new FakePool({ size: 2 });
    const responses = await scatterGather(pool, ['a', 'b'], { signal: AbortSignal.abort() });
    assert.equal(pool.calls.length, 0);
    assert.ok(responses.every((response) => response.failureKind === 'aborted'));
  });

  test('misuse throws InvalidOptionError quoting the value', async () => {
    const pool = new FakePool({ size: 2 });
    await assert.rejects(scatterGather(pool, ['a', 3 as unknown as string]), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError);
      assert.match(error.message, /prompts\[1\] must be a string, got 3/);
      return true;
    });
    await assert.rejects(
      scatterGather(pool, ['a'], { window: 0 }),
      /window must be a positive integer, got 0/,
    );
    await assert.rejects(scatterGather(pool, ['a'], { window: 1.5 }), InvalidOptionError);
    await assert.rejects(scatterGather(new FakePool({ size: 0 }), ['a']), /the pool has no agents/);
    await assert.rejects(scatterGather({} as FakePool, ['a']), /pool must be a SwarmPool/);
    assert.deepEqual(await scatterGather(new FakePool({ size: 0 }), []), []);
  });
});

describe('broadcast', () => {
  test('one response per agent, in agent order', async () => {
    const pool = new FakePool({ size: 4, manual: true });
    const done = broadcast(pool, 'hello');
    const calls = await Promise.all([0, 1, 2, 3].map((sequence) => pool.call(sequence)));
    // Complete in reverse to show that the order comes from the agents, not from completion.
    for (const call of [...calls].reverse()) call.respond(`agent ${call.agentIndex} says hi`);
    const responses = await done;
    assert.deepEqual(
      responses.map((response) => response.text),
      ['agent 0 says hi', 'agent 1 says hi', 'agent 2 says hi', 'agent 3 says hi'],
    );
    assert.ok(calls.every((call) => call.prompt === 'hello'));
  });

  test('an empty pool gives no responses', async () => {
    assert.deepEqual(await broadcast(new FakePool({ size: 0 }), 'x'), []);
  });
});

describe('mapGather', () => {
  test('fills {item} once per item and scatters in order', async () => {
    const pool = new FakePool({ size: 2 });
    const responses = await mapGather(
      pool,
      ['TP53', 7, { gene: 'BRCA1' }, '{item}'],
      'About {item}!',
    );
    assert.deepEqual(
      responses.map((response) => response.text),
      [
        'agent 0: About TP53!',
        'agent 1: About 7!',
        'agent 0: About {"gene":"BRCA1"}!',
        'agent 1: About {item}!',
      ],
    );
  });

  test('rejects a non-array items and a non-string template', async () => {
    const pool = new FakePool({ size: 2 });
    await assert.rejects(
      mapGather(pool, 'abc' as unknown as string[], '{item}'),
      /items must be an array/,
    );
    await assert.rejects(
      mapGather(pool, ['a'], 5 as unknown as string),
      /template must be a string/,
    );
  });
});
