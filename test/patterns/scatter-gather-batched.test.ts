/**
 * Batch mode in the patterns, as the Python original: on `new VLLMPool({ batch: true })`
 * `scatterGather` and `mapGather` send each agent's share as `/v1/completions` prompt lists
 * (directly and through the real proxy), answers in input order; the patterns that send the
 * same prompt to every agent, and `treeReduce`, keep chat completions as the Python `main`
 * line does. With swarm-aware dispatch: `dispatch: 'least-loaded'` sends each planned list
 * to the least-loaded agent (a dead agent's share goes to the others), `hedgeAfterMs` is
 * refused before anything is sent (a list's answer starts only once all of it is generated).
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import {
  type AgentResponse,
  Blackboard,
  broadcast,
  fanOutFanIn,
  type MockSwarm,
  mapGather,
  parseHostfileText,
  type SwarmPool,
  scatterGather,
  scatterGatherStream,
  startMockSwarm,
  treeReduce,
  VLLMPool,
  type VLLMPoolOptions,
} from '../../src/index.js';
import { BATCH_HEDGE_REFUSAL } from '../../src/pool/call-options.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';

const echo = (prompt: string, agentIndex: number): string => `agent-${agentIndex}|${prompt}`;

async function batchSwarm(t: TestContext, count: number, options: Partial<VLLMPoolOptions> = {}) {
  const swarm = await startMockSwarm({
    count,
    behavior: { model: 'mock-model', reply: echo },
    tags: () => ({ role: 'notes' }),
  });
  t.after(() => swarm.close());
  const pool = new VLLMPool({
    endpoints: swarm.endpoints,
    model: 'mock-model',
    modelMaxContext: 8192,
    proxyUrl: null,
    batch: true,
    ...options,
  });
  t.after(() => pool.close());
  return { swarm, pool };
}

/** Every request the agents received, as `agent: METHOD url [prompt list]`. */
function received(swarm: MockSwarm): string[] {
  return swarm.agents.flatMap((agent, index) =>
    agent.requests.map((request) => {
      const prompt =
        request.url === '/v1/completions'
          ? ` ${JSON.stringify(JSON.parse(request.body).prompt)}`
          : '';
      return `${index}: ${request.method} ${request.url}${prompt}`;
    }),
  );
}

function texts(responses: readonly AgentResponse[]): string[] {
  return responses.map((response) =>
    response.success ? response.text : `FAILED ${response.error}`,
  );
}

const prompts = Array.from({ length: 40 }, (_, index) => `p${index}`);

describe('scatterGather and mapGather in batch mode', () => {
  test('40 prompts on 4 agents: 4 prompt lists, answers in input order', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 4);
    const responses = await scatterGather(pool, prompts);
    assert.deepEqual(
      texts(responses),
      prompts.map((prompt, index) => `agent-${index % 4}|${prompt}`),
    );
    assert.deepEqual(
      responses.map((response) => response.agentIndex),
      prompts.map((_, index) => index % 4),
    );
    assert.deepEqual(
      received(swarm),
      [0, 1, 2, 3].map(
        (agent) =>
          `${agent}: POST /v1/completions ${JSON.stringify(prompts.filter((_, index) => index % 4 === agent))}`,
      ),
    );
  });

  test('batchSize cuts each share; the window bounds the batch requests in flight', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 4, { batchSize: 4 });
    const responses = await mapGather(pool, prompts.slice(0, 20), 'Q: {item}', { window: 2 });
    assert.deepEqual(
      texts(responses),
      prompts.slice(0, 20).map((prompt, index) => `agent-${index % 4}|Q: ${prompt}`),
    );
    // Each agent has 5 prompts: a list of 4, then a list of 1.
    const lists = swarm.agents.map((agent) =>
      agent.requests.map((request) => (JSON.parse(request.body).prompt as string[]).length),
    );
    assert.deepEqual(lists, [
      [4, 1],
      [4, 1],
      [4, 1],
      [4, 1],
    ]);
    assert.ok(swarm.inFlight.peakInFlight <= 2, `peak ${swarm.inFlight.peakInFlight}`);
  });

  test('a sub-pool batches to its own agents', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 4);
    const responses = await scatterGather(pool.select([3, 1]), ['a', 'b', 'c']);
    assert.deepEqual(texts(responses), ['agent-3|a', 'agent-1|b', 'agent-3|c']);
    assert.deepEqual(
      responses.map((response) => [response.agentIndex, response.globalIndex]),
      [
        [0, 3],
        [1, 1],
        [0, 3],
      ],
    );
    assert.deepEqual(received(swarm), [
      '1: POST /v1/completions ["b"]',
      '3: POST /v1/completions ["a","c"]',
    ]);
  });

  test('a failed agent fails only its own prompts', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 2, { maxRetries: 0 });
    swarm.agents[1]!.setBehavior({ failure: 'status', failureStatus: 500 });
    const responses = await scatterGather(pool, ['a', 'b', 'c', 'd']);
    assert.deepEqual(
      responses.map((response) => response.success),
      [true, false, true, false],
    );
    assert.equal(responses[1]!.failureKind, responses[3]!.failureKind);
  });

  test('through the real proxy: /agent/{i}/v1/completions, each agent its own share', async (t) => {
    const swarm = await startMockSwarm({
      count: 4,
      behavior: { model: 'mock-model', reply: echo },
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 'sekrit' });
    // The laptop's hostfile names hosts only the proxy can reach.
    const endpoints = parseHostfileText(
      swarm.agents.map((_, index) => `compute-${index + 1}.invalid\t8000`).join('\n'),
    );
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      proxyToken: 'sekrit',
      batch: true,
    });
    const responses = await scatterGather(pool, prompts);
    assert.deepEqual(
      texts(responses),
      prompts.map((prompt, index) => `agent-${index % 4}|${prompt}`),
    );
    const completions = received(swarm).filter((line) => line.includes('/v1/completions'));
    assert.deepEqual(
      completions,
      [0, 1, 2, 3].map(
        (agent) =>
          `${agent}: POST /v1/completions ${JSON.stringify(prompts.filter((_, index) => index % 4 === agent))}`,
      ),
    );
  });

  test('an aborted signal sends nothing more: prompts never sent are aborted, globalIndex -1', async () => {
    const started: number[] = [];
    let finishFirst: ((responses: AgentResponse[]) => void) | undefined;
    const pool = {
      size: 2,
      concurrency: 512,
      endpoints: [],
      batch: true,
      batchSize: 2,
      post: () => Promise.reject(new Error('not used')),
      postBatch: (agentIndex: number, batch: readonly string[]) => {
        started.push(agentIndex);
        return new Promise<AgentResponse[]>((resolve) => {
          finishFirst = resolve;
        }).then(() =>
          batch.map((prompt) => ({
            success: true,
            text: `ok ${prompt}`,
            agentIndex,
            globalIndex: agentIndex,
          })),
        );
      },
    } as unknown as SwarmPool;
    const controller = new AbortController();
    const done = scatterGather(pool, ['a', 'b', 'c', 'd', 'e', 'f'], {
      window: 1,
      signal: controller.signal,
    });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    finishFirst?.([]);
    const responses = await done;
    assert.deepEqual(started, [0], 'only the first batch was sent');
    assert.deepEqual(texts(responses.slice(0, 1)), ['ok a']);
    assert.equal(responses[2]!.text, 'ok c');
    for (const index of [1, 3, 4, 5]) {
      assert.equal(responses[index]!.failureKind, 'aborted');
      assert.equal(responses[index]!.globalIndex, -1);
    }
  });
});

describe('patterns that stay one chat call per agent or per prompt in batch mode', () => {
  test('broadcast, fanOutFanIn, treeReduce (as Python main), Blackboard and scatterGatherStream', async (t) => {
    const { swarm, pool } = await batchSwarm(t, 3);
    await broadcast(pool, 'same for all');
    await fanOutFanIn(pool, 'work', 'collect {responses}');
    await treeReduce(pool, 'leaf {item}', 'reduce {responses}', { items: ['x', 'y', 'z', 'w'] });
    await new Blackboard({ sections: ['notes'], promptFn: () => 'add a note' }).run(
      pool.byTag('role', 'notes'),
      { maxRounds: 1 },
    );
    for await (const _result of scatterGatherStream(pool, ['s0', 's1'])) {
      // results as they complete: one call per prompt
    }
    const urls = new Set(
      swarm.agents.flatMap((agent) => agent.requests.map((request) => request.url)),
    );
    assert.deepEqual([...urls], ['/v1/chat/completions']);
  });
});

/** Each response is its own prompt's answer, from the agent the response names. */
function assertAnsweredInOrder(responses: readonly AgentResponse[], sent: readonly string[]) {
  assert.equal(responses.length, sent.length);
  responses.forEach((response, index) => {
    assert.equal(response.success, true, response.error);
    assert.equal(response.text, `agent-${response.globalIndex}|${sent[index]}`);
  });
}

describe('batch mode with dispatch, hedging and the circuit breaker', () => {
  test("dispatch 'least-loaded': a dead agent's share goes to the live agents", async (t) => {
    const { swarm, pool } = await batchSwarm(t, 4, { retryDelayMs: 1 });
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
    const { swarm, pool } = await batchSwarm(t, 3, { batchSize: 2, retryDelayMs: 1 });
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
    const { swarm, pool } = await batchSwarm(t, 2, { retryDelayMs: 1 });
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
