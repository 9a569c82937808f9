/**
 * Pools against the real proxy (in-process `startProxy`) in front of mock agents, with
 * a laptop-style hostfile of names that do not resolve: only the proxy can reach the
 * agents, and the script's hostfile maps to the proxy's by line index.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import type { ProxyOptions } from '../../src/proxy/proxy-options.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';

const ROLES = ['worker', 'critic', 'worker', 'worker', 'critic', 'worker'];

async function laptopSetup(t: TestContext, count: number, proxyOptions: ProxyOptions = {}) {
  const swarm = await startMockSwarm({ count, behavior: { model: 'mock-model' } });
  t.after(() => swarm.close());
  const proxy = await startTestProxy(t, swarm.endpoints, proxyOptions);
  const endpoints = parseHostfileText(
    swarm.agents
      .map(
        (_, index) =>
          `compute-${String(index + 1).padStart(3, '0')}.invalid\t8000\trole=${ROLES[index % ROLES.length]}`,
      )
      .join('\n'),
  );
  return { swarm, proxy, endpoints };
}

/** Which agent got each request since `counts` was taken, as [agent index, url] pairs. */
function arrivals(swarm: Awaited<ReturnType<typeof startMockSwarm>>, counts: number[]) {
  return swarm.agents.flatMap((agent, index) =>
    agent.requests.slice(counts[index]).map((request) => [index, request.url] as const),
  );
}

describe('pools through the real proxy', () => {
  test('proxyUrl option: every request kind reaches the agent of its global index', async (t) => {
    const { swarm, proxy, endpoints } = await laptopSetup(t, 3);
    await using pool = new VLLMPool({ endpoints, proxyUrl: proxy.url });
    const chat = await pool.post(2, 'via proxy');
    assert.equal(chat.success, true, chat.error);
    assert.match(chat.text, /^Agent 2 /);
    const batch = await pool.sendAllBatched(['b0', 'b1']);
    assert.deepEqual(
      batch.map((response) => response.text.slice(0, 7)),
      ['Agent 0', 'Agent 1'],
    );
    assert.match((await pool.stream(1, 'streamed').response).text, /^Agent 1 /);
    await using generatePool = new AgentPool({ endpoints, proxyUrl: proxy.url });
    assert.match((await generatePool.post(1, 'generate')).text, /^Agent 1 /);
    await using embeddings = new EmbeddingPool({ endpoints, proxyUrl: proxy.url });
    const vector = await embeddings.embedOne(2, 'embed me');
    assert.equal(vector.success, true, vector.error);
    assert.deepEqual(
      swarm.agents.map((agent) =>
        agent.requests.map((request) => `${request.method} ${request.url}`),
      ),
      [
        ['POST /v1/completions'],
        ['POST /v1/completions', 'POST /v1/chat/completions', 'POST /generate'],
        ['GET /v1/models', 'POST /v1/chat/completions', 'GET /v1/models', 'POST /v1/embeddings'],
      ],
    );
    for (const agent of swarm.agents) {
      for (const request of agent.requests) {
        assert.equal(request.headers['x-timeout'], undefined, 'X-Timeout stays at the proxy');
        assert.equal(request.headers.host, `127.0.0.1:${agent.port}`);
      }
    }
  });

  test('AURORA_SWARM_PROXY_URL is used when no option is given', async (t) => {
    const { swarm, proxy, endpoints } = await laptopSetup(t, 2);
    const saved = process.env.AURORA_SWARM_PROXY_URL;
    process.env.AURORA_SWARM_PROXY_URL = proxy.url;
    let pool: VLLMPool;
    try {
      pool = new VLLMPool({ endpoints, model: 'mock-model', modelMaxContext: 8192 });
    } finally {
      if (saved === undefined) delete process.env.AURORA_SWARM_PROXY_URL;
      else process.env.AURORA_SWARM_PROXY_URL = saved;
    }
    t.after(() => pool.close());
    const responses = await pool.sendAll(['a', 'b', 'c']);
    assert.deepEqual(
      responses.map((response) => [response.success, response.text.slice(0, 7)]),
      [
        [true, 'Agent 0'],
        [true, 'Agent 1'],
        [true, 'Agent 0'],
      ],
    );
    assert.deepEqual(
      swarm.agents.map((agent) => agent.stats.requests),
      [2, 1],
    );
  });

  test('every sub-pool kind and chains reach the right global index at the agents', async (t) => {
    const { swarm, proxy, endpoints } = await laptopSetup(t, 6);
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const sample = pool.slice(3).sample(2);
    const cases: Array<[string, VLLMPool, readonly number[]]> = [
      ['byTag', pool.byTag('role', 'critic'), [1, 4]],
      ['select', pool.select([5, 0, 3]), [5, 0, 3]],
      ['slice', pool.slice(2, 4), [2, 3]],
      ['chain', pool.byTag('role', 'worker').slice(1).select([2, 0]), [5, 2]],
      ['sample chain', sample, sample.globalIndices],
    ];
    for (const [name, sub, expected] of cases) {
      const counts = swarm.agents.map((agent) => agent.requests.length);
      const responses = await sub.broadcastPrompt(name);
      assert.deepEqual(
        responses.map((response) => response.globalIndex),
        [...expected],
        name,
      );
      responses.forEach((response, agentIndex) => {
        assert.equal(response.agentIndex, agentIndex, name);
        assert.match(response.text, new RegExp(`^Agent ${response.globalIndex} `), name);
      });
      assert.deepEqual(
        arrivals(swarm, counts)
          .map(([index]) => index)
          .sort(),
        [...expected].sort(),
        `${name}: the agents that were called`,
      );
    }
  });

  test('X-Timeout: the pool timeout replaces the proxy default, both ways', async (t) => {
    const { swarm, proxy, endpoints } = await laptopSetup(t, 2, { timeoutSeconds: 0.2 });
    swarm.agents[0]!.setBehavior({ latencyMs: 600 });
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      model: 'mock-model',
      modelMaxContext: 8192,
      timeoutMs: 30_000,
      maxRetries: 0,
    });
    // The proxy alone would give up after 0.2 s; the pool's 30 s travels as X-Timeout.
    const slow = await pool.post(0, 'slow');
    assert.equal(slow.success, true, slow.error);
    // A per-call timeout travels too: 0.3 s for a hanging agent comes back as a timeout,
    // and the agent sees its request aborted.
    swarm.agents[1]!.setBehavior({ failure: 'hang' });
    const aborted = swarm.agents[1]!.nextAbort();
    const hung = await pool.post(1, 'hang', { timeoutMs: 300 });
    assert.equal(hung.failureKind, 'timeout');
    await aborted;
  });

  test('the proxy token: sent by the pool, required by the proxy, never seen by agents', async (t) => {
    const { swarm, proxy, endpoints } = await laptopSetup(t, 2, { token: 's3cret' });
    await using withToken = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      proxyToken: 's3cret',
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const answered = await withToken.post(1, 'hello');
    assert.equal(answered.success, true, answered.error);
    assert.equal(swarm.agents[1]!.requests.at(-1)?.headers['proxy-authorization'], undefined);
    await using withoutToken = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      proxyToken: 'wrong',
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const refused = await withoutToken.post(0, 'hello');
    assert.equal(refused.success, false);
    assert.equal(refused.status, 401);
    assert.match(refused.error ?? '', /missing or wrong proxy token/);
    assert.equal(swarm.agents[0]!.stats.requests, 0);
  });
});
