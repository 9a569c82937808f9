import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import {
  broadcastAndReduce,
  broadcastAndReduceDetails,
} from '../../src/patterns/broadcast-and-reduce.js';
import { fanOutFanIn, fanOutFanInDetails } from '../../src/patterns/fan-out-fan-in.js';
import { FakePool } from './fake-pool.js';

const failOdd = (globalIndex: number, prompt: string) =>
  globalIndex % 2 === 1 && prompt === 'q'
    ? { error: 'agent said no' }
    : `a${globalIndex}:${prompt}`;

describe('broadcastAndReduce', () => {
  test('joins successful answers with ---, reduces on agent 0 with the aggregation budget', async () => {
    const pool = new FakePool({ size: 4, answer: failOdd, maxTokensAggregation: 1024 });
    const { responses, answer: reduced } = await broadcastAndReduceDetails(
      pool,
      'q',
      'Merge:\n{responses}',
      {
        maxTokens: 16,
      },
    );
    assert.equal(responses.length, 4);
    assert.deepEqual(
      responses.map((response) => response.success),
      [true, false, true, false],
    );
    assert.equal(reduced.text, 'a0:Merge:\na0:q\n---\na2:q');
    const reducerCall = pool.calls[4];
    assert.equal(reducerCall?.agentIndex, 0);
    assert.equal(reducerCall?.options?.maxTokens, 1024);
    assert.equal(pool.calls[0]?.options?.maxTokens, 16);
  });

  test('reducerAgentIndex picks the reducer; without an aggregation budget maxTokens applies', async () => {
    const pool = new FakePool({ size: 3 });
    const reduced = await broadcastAndReduce(pool, 'q', 'R {responses}', {
      reducerAgentIndex: 2,
      maxTokens: 5,
    });
    assert.equal(reduced.agentIndex, 2);
    assert.equal(pool.calls[3]?.options?.maxTokens, 5);
  });

  test('when every agent fails the reducer is not called and the cause is kept', async () => {
    const pool = new FakePool({
      size: 2,
      answer: () => ({ error: 'timeout after 10 ms', failureKind: 'timeout' }),
    });
    const reduced = await broadcastAndReduce(pool, 'q', 'R {responses}');
    assert.equal(pool.calls.length, 2);
    assert.equal(reduced.success, false);
    assert.equal(reduced.failureKind, 'timeout');
    assert.match(reduced.error ?? '', /reducer was not called.*timeout after 10 ms/);
  });

  test('an answer containing {responses} is not expanded again', async () => {
    const pool = new FakePool({
      size: 2,
      answer: (_index, prompt) => (prompt === 'q' ? '{responses}' : prompt),
    });
    const reduced = await broadcastAndReduce(pool, 'q', '<{responses}>');
    assert.equal(reduced.text, '<{responses}\n---\n{responses}>');
  });

  test('abort before the reduction leaves the reducer uncalled', async () => {
    const pool = new FakePool({ size: 2, manual: true });
    const controller = new AbortController();
    const done = broadcastAndReduce(pool, 'q', 'R {responses}', { signal: controller.signal });
    (await pool.call(0)).respond('x');
    await pool.call(1);
    controller.abort();
    const reduced = await done;
    assert.equal(pool.calls.length, 2);
    assert.equal(reduced.failureKind, 'aborted');
  });

  test('a reducer index out of range throws', async () => {
    const pool = new FakePool({ size: 2 });
    await assert.rejects(
      broadcastAndReduce(pool, 'q', 'r', { reducerAgentIndex: 2 }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(error.message, /reducerAgentIndex must be an integer in \[0, 2\).*got 2/);
        return true;
      },
    );
    assert.equal(pool.calls.length, 0);
  });
});

describe('fanOutFanIn', () => {
  test('the first nWorkers agents work, agent 0 collects', async () => {
    const pool = new FakePool({ size: 5, maxTokensAggregation: 77 });
    const { responses, answer: collected } = await fanOutFanInDetails(pool, 'q', 'C {responses}', {
      nWorkers: 3,
    });
    assert.deepEqual(
      responses.map((response) => response.text),
      ['agent 0: q', 'agent 1: q', 'agent 2: q'],
    );
    assert.equal(collected.agentIndex, 0);
    assert.equal(collected.text, 'agent 0: C agent 0: q\n---\nagent 1: q\n---\nagent 2: q');
    assert.equal(pool.calls[3]?.options?.maxTokens, 77);
  });

  test('all agents work by default; failed workers are left out and reported', async () => {
    const pool = new FakePool({ size: 4, answer: failOdd });
    const { responses, answer: collected } = await fanOutFanInDetails(pool, 'q', 'C {responses}');
    assert.equal(responses.length, 4);
    assert.equal(responses.filter((response) => !response.success).length, 2);
    assert.equal(collected.text, 'a0:C a0:q\n---\na2:q');
  });

  test('no successful worker: the collector is not called', async () => {
    const pool = new FakePool({
      size: 2,
      answer: () => ({ error: 'down', failureKind: 'connect' }),
    });
    const collected = await fanOutFanIn(pool, 'q', 'C {responses}');
    assert.equal(pool.calls.length, 2);
    assert.equal(collected.success, false);
    assert.equal(collected.failureKind, 'connect');
  });

  test('nWorkers must be an integer in [1, size]', async () => {
    const pool = new FakePool({ size: 2 });
    await assert.rejects(
      fanOutFanIn(pool, 'q', 'c', { nWorkers: 3 }),
      /nWorkers must be at most the pool size \(2\), got 3/,
    );
    await assert.rejects(
      fanOutFanIn(pool, 'q', 'c', { nWorkers: 0 }),
      /nWorkers must be a positive integer/,
    );
    await assert.rejects(fanOutFanIn(new FakePool({ size: 0 }), 'q', 'c'), /no agents/);
  });
});
