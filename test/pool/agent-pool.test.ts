import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PoolClosedError, SwarmError } from '../../src/errors.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

async function swarmOf(
  t: { after: (fn: () => Promise<void>) => void },
  count: number,
  tags?: (index: number) => Record<string, string>,
) {
  const swarm = await startMockSwarm({ count, ...(tags ? { tags } : {}) });
  t.after(() => swarm.close());
  return swarm;
}

describe('AgentPool', () => {
  test('post sends /generate and reads "response"', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new AgentPool({ endpoints: swarm.endpoints });
    const request = swarm.agents[1]!.nextRequest();
    const response = await pool.post(1, 'hello agent');
    assert.equal(response.success, true);
    assert.match(response.text, /^Agent 1 .* on "hello agent"/);
    assert.equal(response.agentIndex, 1);
    assert.equal(response.globalIndex, 1);
    const seen = await request;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/generate');
    assert.deepEqual(JSON.parse(seen.body), { prompt: 'hello agent' });
  });

  test('sendAll: prompt i goes to agent i % size, results in input order', async (t) => {
    const swarm = await swarmOf(t, 3);
    // Uneven latencies so answers arrive out of order.
    swarm.agents[0]!.setBehavior({ latencyMs: 30 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    const prompts = Array.from({ length: 10 }, (_, index) => `prompt number ${index}`);
    const responses = await pool.sendAll(prompts);
    assert.equal(responses.length, 10);
    responses.forEach((response, index) => {
      assert.equal(response.success, true, response.error);
      assert.equal(response.agentIndex, index % 3);
      assert.equal(response.globalIndex, index % 3);
      assert.match(response.text, new RegExp(`^Agent ${index % 3} .*"prompt number ${index}"`));
    });
  });

  test('broadcastPrompt: one answer per agent, agent order', async (t) => {
    const swarm = await swarmOf(t, 4);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    const responses = await pool.broadcastPrompt('same question');
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.text.slice(0, 7)]),
      [0, 1, 2, 3].map((index) => [index, `Agent ${index}`]),
    );
  });

  test('post with an index out of range is a failed response, not a throw', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    for (const index of [2, -1, 1.5]) {
      const response = await pool.post(index, 'x');
      assert.equal(response.success, false);
      assert.equal(response.failureKind, 'invalid-index');
      assert.match(response.error ?? '', /out of range \[0, 2\)/);
    }
    assert.equal(swarm.agents[0]!.stats.requests + swarm.agents[1]!.stats.requests, 0);
  });

  test('misuse throws InvalidOptionError', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    await assert.rejects(pool.post(0, 42 as unknown as string), {
      code: 'ERR_INVALID_OPTION',
      message: /prompt: expected a string, got 42/,
    });
    await assert.rejects(pool.sendAll(['a', 7 as unknown as string]), {
      message: /prompts\[1\]: expected a string/,
    });
    await assert.rejects(pool.post(0, 'x', { timeoutMs: -5 }), {
      message: /option timeoutMs: expected a finite number > 0, got -5/,
    });
    await assert.rejects(pool.post(0, 'x', { maxTokens: 1.5 }), {
      message: /option maxTokens: expected a positive integer, got 1.5/,
    });
    await assert.rejects(pool.post(0, 'x', { signal: 'no' as unknown as AbortSignal }), {
      message: /option signal: expected an AbortSignal/,
    });
    assert.throws(() => pool.select([5]), {
      message: /select indices\[0\]: expected an integer in \[0, 1\), got 5/,
    });
    assert.throws(() => pool.sample(-1), { message: /sample n: expected an integer >= 0, got -1/ });
    assert.throws(() => pool.slice(0.5), { message: /slice start: expected an integer, got 0.5/ });
  });

  test('sending to an empty sub-pool throws; broadcasting to it gives []', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    const empty = pool.byTag('role', 'nobody');
    assert.equal(empty.size, 0);
    assert.deepEqual(await empty.broadcastPrompt('x'), []);
    assert.deepEqual(await empty.sendAll([]), []);
    await assert.rejects(
      empty.sendAll(['x']),
      (error: unknown) => error instanceof SwarmError && error.code === 'ERR_INVALID_ARGUMENT',
    );
  });
});

describe('sub-pools', () => {
  test('byTag, sample, select, slice keep the class and map to global indices through chains', async (t) => {
    const roles = ['worker', 'critic', 'worker', 'worker', 'critic', 'worker'];
    const swarm = await swarmOf(t, 6, (index) => ({ role: roles[index]! }));
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });

    const workers = pool.byTag('role', 'worker');
    assert.ok(workers instanceof VLLMPool);
    assert.deepEqual(workers.globalIndices, [0, 2, 3, 5]);
    const chained = workers.slice(1).select([2, 0]);
    assert.ok(chained instanceof VLLMPool);
    assert.deepEqual(chained.globalIndices, [5, 2]);
    assert.deepEqual(chained.endpoints, [swarm.endpoints[5], swarm.endpoints[2]]);

    const responses = await chained.sendAll(['first', 'second', 'third']);
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.globalIndex]),
      [
        [0, 5],
        [1, 2],
        [0, 5],
      ],
    );
    assert.match(responses[0]!.text, /^Agent 5 /);
    assert.match(responses[1]!.text, /^Agent 2 /);

    const sampled = pool.byTag('role', 'critic').sample(1);
    assert.equal(sampled.size, 1);
    assert.ok([1, 4].includes(sampled.globalIndices[0]!));
    const answer = await sampled.post(0, 'x');
    assert.equal(answer.globalIndex, sampled.globalIndices[0]);
    assert.match(answer.text, new RegExp(`^Agent ${answer.globalIndex} `));

    assert.equal(
      pool.sample(100).size,
      6,
      'sample(n > size) takes every agent, as the Python original',
    );
    assert.deepEqual(pool.slice(-2).globalIndices, [4, 5]);
  });

  test('closing a sub-pool leaves the root usable; closing the root ends every sub-pool', async (t) => {
    const swarm = await swarmOf(t, 3);
    const pool = new VLLMPool({ endpoints: swarm.endpoints });
    const sub = pool.slice(1);
    await sub.close();
    assert.equal((await pool.post(0, 'still open')).success, true);
    assert.equal((await sub.post(0, 'sub still open')).success, true);
    await pool.close();
    await pool.close();
    assert.equal(pool.closed, true);
    await assert.rejects(pool.post(0, 'x'), PoolClosedError);
    await assert.rejects(
      sub.sendAll(['x']),
      (error: unknown) => error instanceof PoolClosedError && error.code === 'ERR_POOL_CLOSED',
    );
  });

  test('close lets in-flight calls finish; calls still queued for a slot resolve as aborted', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ latencyMs: 50 });
    const pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'meta-llama/Llama-3.1-70B-Instruct',
      modelMaxContext: 8192,
      concurrency: 1,
    });
    const arrived = swarm.agents[0]!.nextRequest();
    const calls = pool.sendAll(['in flight', 'queued']);
    await arrived;
    await pool.close();
    const [inFlight, queued] = await calls;
    assert.equal(inFlight!.success, true);
    assert.equal(queued!.failureKind, 'aborted');
    assert.match(queued!.error ?? '', /the pool was closed before this call was sent/);
    assert.equal(swarm.agents[0]!.stats.requests, 1);
  });

  test('await using closes the pool at the end of the scope', async (t) => {
    const swarm = await swarmOf(t, 1);
    let escaped: VLLMPool | undefined;
    {
      await using pool = new VLLMPool({ endpoints: swarm.endpoints });
      escaped = pool;
      assert.equal((await pool.post(0, 'x')).success, true);
    }
    assert.equal(escaped.closed, true);
  });
});

describe('shared concurrency limit', () => {
  test('the root and its sub-pools together never exceed `concurrency` at the agents', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 20 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, concurrency: 3 });
    const left = pool.slice(0, 2);
    const right = pool.slice(2);
    const results = await Promise.all([
      pool.sendAll(Array.from({ length: 12 }, (_, index) => `root ${index}`)),
      left.sendAll(Array.from({ length: 12 }, (_, index) => `left ${index}`)),
      right.broadcastPrompt('right'),
    ]);
    assert.ok(results.flat().every((response) => response.success));
    const peak = swarm.inFlight.peakInFlight;
    assert.ok(peak <= 3, `peak in flight ${peak} exceeds the shared limit 3`);
    assert.ok(peak >= 2, `peak in flight ${peak}: calls did not run concurrently`);
    assert.equal(left.concurrency, 3);
  });
});
