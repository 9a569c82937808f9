/**
 * Batch mode meets swarm-aware dispatch: on a `batch: true` pool, `dispatch: 'least-loaded'`
 * sends each planned prompt list to the least-loaded agent (a dead agent's share goes to the
 * others), `hedgeAfterMs` is refused before anything is sent (a batch's answer starts only
 * once all of it is generated, so every batch would be hedged), and the circuit breaker
 * guards batches as it guards single calls.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import {
  type AgentResponse,
  mapGather,
  type SwarmPool,
  scatterGather,
  startMockSwarm,
  VLLMPool,
  type VLLMPoolOptions,
} from '../../src/index.js';
import { BATCH_HEDGE_REFUSAL } from '../../src/pool/call-options.js';

const echo = (prompt: string, agentIndex: number): string => `agent-${agentIndex}|${prompt}`;

async function batchSwarm(t: TestContext, count: number, options: Partial<VLLMPoolOptions> = {}) {
  const swarm = await startMockSwarm({ count, behavior: { model: 'mock-model', reply: echo } });
  t.after(() => swarm.close());
  const pool = new VLLMPool({
    endpoints: swarm.endpoints,
    model: 'mock-model',
    modelMaxContext: 8192,
    proxyUrl: null,
    batch: true,
    retryDelayMs: 1,
    ...options,
  });
  t.after(() => pool.close());
  return { swarm, pool };
}

const prompts = Array.from({ length: 40 }, (_, index) => `p${index}`);

/** Each response is its own prompt's answer, from the agent the response names. */
function assertAnsweredInOrder(responses: readonly AgentResponse[], sent: readonly string[]) {
  assert.equal(responses.length, sent.length);
  responses.forEach((response, index) => {
    assert.equal(response.success, true, response.error);
    assert.equal(response.text, `agent-${response.globalIndex}|${sent[index]}`);
  });
}

describe('batch mode with dispatch and hedging', () => {
  test("dispatch 'least-loaded': a dead agent's share goes to the live agents", async (t) => {
    const { swarm, pool } = await batchSwarm(t, 4);
    await swarm.agents[1]!.stop();
    const responses = await scatterGather(pool, prompts, { dispatch: 'least-loaded' });
    assertAnsweredInOrder(responses, prompts);
    assert.ok(responses.every((response) => response.globalIndex !== 1));
    assert.ok(responses.every((response) => response.agentIndex === response.globalIndex));
    // The same 4 prompt lists as round-robin (planBatches), each answered by a live agent.
    const lists = swarm.agents.flatMap((agent) =>
      agent.requests
        .filter((request) => request.url === '/v1/completions')
        .map((request) => JSON.parse(request.body).prompt as string[]),
    );
    assert.deepEqual(
      lists.map((list) => list.join(' ')).sort(),
      [0, 1, 2, 3].map((agent) => prompts.filter((_, index) => index % 4 === agent).join(' ')),
    );
  });

  test("mapGather and sendAll take dispatch 'least-loaded' in batch mode too", async (t) => {
    const { swarm, pool } = await batchSwarm(t, 3, { batchSize: 2 });
    await swarm.agents[0]!.stop();
    const items = prompts.slice(0, 12);
    const mapped = await mapGather(pool, items, 'Q: {item}', { dispatch: 'least-loaded' });
    assertAnsweredInOrder(
      mapped,
      items.map((item) => `Q: ${item}`),
    );
    const sent = await pool.sendAll(items, { dispatch: 'least-loaded' });
    assertAnsweredInOrder(sent, items);
    assert.ok([...mapped, ...sent].every((response) => response.globalIndex !== 0));
  });

  test('postBatchLeastLoaded: one list to the least-loaded agent, failing over', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 2);
    await swarm.agents[0]!.stop();
    for (let round = 0; round < 4; round++) {
      const responses = await pool.postBatchLeastLoaded(['a', 'b']);
      assertAnsweredInOrder(responses, ['a', 'b']);
      assert.ok(responses.every((response) => response.agentIndex === 1));
    }
    assert.deepEqual(await pool.postBatchLeastLoaded([]), []);
    await assert.rejects(pool.select([]).postBatchLeastLoaded(['a']), {
      name: 'InvalidArgumentError',
      message: 'cannot send 1 prompt(s) to an empty pool',
    });
  });

  test('hedgeAfterMs in batch mode is refused at once, nothing sent', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 2);
    const refusal = (name: string) => ({
      name: 'InvalidOptionError',
      code: 'ERR_INVALID_OPTION',
      message: `${name}: ${BATCH_HEDGE_REFUSAL}`,
    });
    for (const dispatch of ['round-robin', 'least-loaded'] as const) {
      await assert.rejects(
        scatterGather(pool, prompts, { hedgeAfterMs: 200, dispatch }),
        refusal('scatterGather'),
      );
      await assert.rejects(
        mapGather(pool, ['x'], '{item}', { hedgeAfterMs: 200, dispatch }),
        refusal('mapGather'),
      );
      // Refused before the prompts are looked at: an empty list is refused the same way.
      await assert.rejects(
        scatterGather(pool, [], { hedgeAfterMs: 200, dispatch }),
        refusal('scatterGather'),
      );
    }
    await assert.rejects(pool.postBatch(0, ['a'], { hedgeAfterMs: 200 }), refusal('postBatch'));
    await assert.rejects(
      pool.postBatchLeastLoaded(['a'], { hedgeAfterMs: 200 }),
      refusal('postBatchLeastLoaded'),
    );
    await assert.rejects(pool.sendAll(['a'], { hedgeAfterMs: 200 }), refusal('sendAllBatched'));
    await assert.rejects(
      pool.sendAllBatched(['a'], { hedgeAfterMs: 200 }),
      refusal('sendAllBatched'),
    );
    assert.match(BATCH_HEDGE_REFUSAL, /^[^\n]+$/, 'one line');
    assert.deepEqual(
      swarm.agents.map((agent) => agent.requests.length),
      [0, 0],
    );
    // The same pool hedges single calls: post is one chat call, not a batch.
    const single = await pool.post(0, 'one', { hedgeAfterMs: 10_000 });
    assert.equal(single.success, true);
  });

  test("dispatch 'least-loaded' on a batching pool without postBatchLeastLoaded is refused", async () => {
    let sent = 0;
    const pool: SwarmPool = {
      size: 2,
      endpoints: [],
      concurrency: 4,
      batch: true,
      post: async () => assert.fail('not a batch'),
      postBatch: async (_index, list) => {
        sent++;
        return list.map(() => ({ success: true, text: '', agentIndex: 0, globalIndex: 0 }));
      },
      sendAll: async () => [],
      broadcastPrompt: async () => [],
      byTag: () => pool,
      sample: () => pool,
      select: () => pool,
      slice: () => pool,
    };
    await assert.rejects(scatterGather(pool, ['a'], { dispatch: 'least-loaded' }), {
      code: 'ERR_INVALID_OPTION',
      message:
        "scatterGather: dispatch 'least-loaded' in batch mode needs a pool with postBatchLeastLoaded (VLLMPool or a sub-pool)",
    });
    assert.equal(sent, 0);
    assert.equal((await scatterGather(pool, ['a', 'b'])).length, 2);
    assert.equal(sent, 2);
  });
});
