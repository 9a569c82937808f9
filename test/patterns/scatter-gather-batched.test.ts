/**
 * Batch mode in the patterns, as the Python original: on `new VLLMPool({ batch: true })`
 * `scatterGather` and `mapGather` send each agent's share as `/v1/completions` prompt lists
 * (directly and through the real proxy), answers in input order; the patterns that send the
 * same prompt to every agent, and `treeReduce`, keep chat completions as the Python `main`
 * line does.
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
