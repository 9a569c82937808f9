import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { mapGather } from '../../src/patterns/map-gather.js';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import { scatterGatherStream } from '../../src/patterns/scatter-gather-stream.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { FakePool } from './fake-pool.js';

type After = { after: (fn: () => Promise<void>) => void };

const known = { model: 'meta-llama/Llama-3.1-70B-Instruct', modelMaxContext: 8192 };

async function poolWithDeadAgent(t: After) {
  const swarm = await startMockSwarm({ count: 5 });
  t.after(() => swarm.close());
  await swarm.agents[4]!.stop();
  const pool = new VLLMPool({
    endpoints: swarm.endpoints,
    ...known,
    concurrency: 8,
    retryDelayMs: 1,
  });
  t.after(() => pool.close());
  return { swarm, pool };
}

describe("patterns with dispatch: 'least-loaded'", () => {
  test('scatterGather: 200 of 200 over 4 live agents and a dead one, in input order', async (t) => {
    const { pool } = await poolWithDeadAgent(t);
    const prompts = Array.from({ length: 200 }, (_, index) => `item ${index}`);
    const responses = await scatterGather(pool, prompts, { dispatch: 'least-loaded' });
    assert.equal(responses.filter((response) => response.success).length, 200);
    responses.forEach((response, index) => {
      assert.match(response.text, new RegExp(`item ${index}\\b`));
      assert.notEqual(response.globalIndex, 4);
    });
  });

  test('round-robin stays the default: the dead agent fails its share', async (t) => {
    const { pool } = await poolWithDeadAgent(t);
    const responses = await scatterGather(
      pool,
      Array.from({ length: 20 }, () => 'x'),
    );
    responses.forEach((response, index) => {
      assert.equal(response.agentIndex, index % 5);
      assert.equal(response.success, index % 5 !== 4);
    });
  });

  test('mapGather and scatterGatherStream take it too; an item keeps its own agentIndex', async (t) => {
    const { pool } = await poolWithDeadAgent(t);
    const mapped = await mapGather(pool, ['a', 'b', 'c', 'd', 'e', 'f'], 'About {item}', {
      dispatch: 'least-loaded',
    });
    assert.ok(mapped.every((response) => response.success));
    const seen: { index: number; globalIndex: number }[] = [];
    for await (const { index, response } of scatterGatherStream(
      pool,
      ['free', { prompt: 'pinned to agent 2', agentIndex: 2 }, 'free again'],
      { dispatch: 'least-loaded' },
    )) {
      assert.ok(response.success);
      seen.push({ index, globalIndex: response.globalIndex });
    }
    assert.equal(seen.find((entry) => entry.index === 1)?.globalIndex, 2);
  });

  test('unsent prompts under least-loaded name no agent', async (t) => {
    const { pool } = await poolWithDeadAgent(t);
    const controller = new AbortController();
    controller.abort();
    const responses = await scatterGather(pool, ['a', 'b'], {
      dispatch: 'least-loaded',
      signal: controller.signal,
    });
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.globalIndex]),
      [
        [-1, -1],
        [-1, -1],
      ],
    );
  });

  test('hedgeAfterMs reaches every call of a pattern', async () => {
    const pool = new FakePool({ size: 2 });
    await scatterGather(pool, ['a', 'b'], { hedgeAfterMs: 250 });
    assert.deepEqual(
      pool.calls.map((call) => call.options?.hedgeAfterMs),
      [250, 250],
    );
  });

  test('a pool without postLeastLoaded, a bad dispatch, a bad hedgeAfterMs: InvalidOptionError', async () => {
    const pool = new FakePool({ size: 2 });
    await assert.rejects(
      scatterGather(pool, ['a'], { dispatch: 'least-loaded' }),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        /^scatterGather: dispatch 'least-loaded' needs a pool with postLeastLoaded/.test(
          error.message,
        ),
    );
    await assert.rejects(
      scatterGather(pool, ['a'], { dispatch: 'fastest' as never }),
      /scatterGather: dispatch must be 'round-robin' or 'least-loaded', got "fastest"/,
    );
    await assert.rejects(
      scatterGather(pool, ['a'], { hedgeAfterMs: -5 }),
      /scatterGather: hedgeAfterMs must be a finite number of milliseconds > 0, or 0 \/ false for never, got -5/,
    );
  });
});
