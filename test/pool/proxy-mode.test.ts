import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { AgentPool } from '../../src/pool/agent-pool.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { startForwardingProxy } from './pool-test-helpers.js';

type After = { after: (fn: () => Promise<void>) => void };

/**
 * Mock agents behind a forwarding proxy, and a laptop-style hostfile naming hosts
 * that do not resolve (`.invalid` is reserved): only the proxy can reach them.
 */
async function laptopSetup(t: After, count: number) {
  const swarm = await startMockSwarm({ count, behavior: { model: 'mock-model' } });
  t.after(() => swarm.close());
  const roles = ['worker', 'critic', 'worker', 'worker', 'critic', 'worker'];
  const hostfileText = swarm.agents
    .map(
      (_, index) =>
        `compute-${String(index + 1).padStart(3, '0')}.invalid\t8000\trole=${roles[index % roles.length]}`,
    )
    .join('\n');
  const endpoints = parseHostfileText(hostfileText);
  const proxy = await startForwardingProxy(
    endpoints.map((endpoint, index) => ({
      host: endpoint.host,
      port: endpoint.port,
      realPort: swarm.agents[index]!.port,
    })),
  );
  t.after(() => proxy.close());
  return { swarm, endpoints, proxy };
}

describe('proxy mode', () => {
  test('every request kind goes to {proxyUrl}/agent/{globalIndex}/... with a matching X-Timeout', async (t) => {
    const { endpoints, proxy } = await laptopSetup(t, 3);
    await using pool = new VLLMPool({ endpoints, proxyUrl: proxy.url, timeoutMs: 45_000 });
    const chat = await pool.post(2, 'via proxy');
    assert.equal(chat.success, true, chat.error);
    assert.match(chat.text, /^Agent 2 /);
    const batch = await pool.sendAllBatched(['b0', 'b1']);
    assert.deepEqual(
      batch.map((response) => response.text.slice(0, 7)),
      ['Agent 0', 'Agent 1'],
    );
    const streamed = await pool.stream(1, 'streamed').response;
    assert.match(streamed.text, /^Agent 1 /);
    await using generatePool = new AgentPool({ endpoints, proxyUrl: proxy.url });
    assert.match((await generatePool.post(1, 'generate')).text, /^Agent 1 /);
    await using embeddings = new EmbeddingPool({ endpoints, proxyUrl: proxy.url });
    const vector = await embeddings.embedOne(2, 'embed me');
    assert.equal(vector.success, true, vector.error);

    const seen = proxy.requests.map((request) => [
      request.method,
      request.url,
      request.headers['x-timeout'],
    ]);
    assert.deepEqual(seen, [
      ['GET', '/agent/2/v1/models', '30'],
      ['POST', '/agent/2/v1/chat/completions', '45'],
      // A batch's timeout is max(timeoutMs, waves × timeoutPerSequenceMs): 60 s for one wave.
      ['POST', '/agent/0/v1/completions', '60'],
      ['POST', '/agent/1/v1/completions', '60'],
      ['POST', '/agent/1/v1/chat/completions', '45'],
      ['POST', '/agent/1/generate', '120'],
      ['GET', '/agent/2/v1/models', '30'],
      ['POST', '/agent/2/v1/embeddings', '60'],
    ]);
    assert.ok(
      proxy.requests.every((request) => request.headers['proxy-authorization'] === undefined),
    );
  });

  test('a per-call timeout is what X-Timeout says; the proxy token is sent as Proxy-Authorization', async (t) => {
    const { endpoints, proxy } = await laptopSetup(t, 2);
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      model: 'mock-model',
      modelMaxContext: 8192,
      proxyToken: 's3cret',
    });
    await pool.post(0, 'x', { timeoutMs: 4500 });
    await pool.post(1, 'y');
    assert.deepEqual(
      proxy.requests.map((request) => [
        request.headers['x-timeout'],
        request.headers['proxy-authorization'],
      ]),
      [
        ['4.5', 'Bearer s3cret'],
        ['300', 'Bearer s3cret'],
      ],
    );
  });

  test('AURORA_SWARM_PROXY_URL and AURORA_SWARM_PROXY_TOKEN are used when no option is given', async (t) => {
    const { endpoints, proxy } = await laptopSetup(t, 2);
    const saved = {
      url: process.env.AURORA_SWARM_PROXY_URL,
      token: process.env.AURORA_SWARM_PROXY_TOKEN,
    };
    process.env.AURORA_SWARM_PROXY_URL = proxy.url;
    process.env.AURORA_SWARM_PROXY_TOKEN = 'from-env';
    let pool: VLLMPool;
    try {
      pool = new VLLMPool({ endpoints, model: 'mock-model', modelMaxContext: 8192 });
    } finally {
      for (const [name, value] of [
        ['AURORA_SWARM_PROXY_URL', saved.url],
        ['AURORA_SWARM_PROXY_TOKEN', saved.token],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    t.after(() => pool.close());
    assert.equal(pool.proxyUrl, proxy.url);
    const responses = await pool.sendAll(['a', 'b', 'c']);
    assert.deepEqual(
      responses.map((response) => response.text.slice(0, 7)),
      ['Agent 0', 'Agent 1', 'Agent 0'],
    );
    assert.deepEqual(
      proxy.requests.map((request) => request.url),
      [
        '/agent/0/v1/chat/completions',
        '/agent/1/v1/chat/completions',
        '/agent/0/v1/chat/completions',
      ],
    );
    assert.equal(proxy.requests[0]!.headers['proxy-authorization'], 'Bearer from-env');
  });

  test('every sub-pool kind and chains reach the right global index through the proxy', async (t) => {
    const { endpoints, proxy } = await laptopSetup(t, 6);
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const cases: Array<[string, VLLMPool, number[]]> = [
      ['byTag', pool.byTag('role', 'critic'), [1, 4]],
      ['select', pool.select([5, 0, 3]), [5, 0, 3]],
      ['slice', pool.slice(2, 4), [2, 3]],
      ['chain', pool.byTag('role', 'worker').slice(1).select([2, 0]), [5, 2]],
      ['sample chain', pool.slice(3).sample(3), pool.slice(3).globalIndices.slice()],
    ];
    for (const [name, sub, expected] of cases) {
      if (name === 'sample chain') expected.sort((a, b) => a - b);
      const before = proxy.requests.length;
      const responses = await sub.broadcastPrompt(name);
      const globals = responses.map((response) => response.globalIndex);
      assert.deepEqual(
        name === 'sample chain' ? globals.slice().sort((a, b) => a - b) : globals,
        expected,
        name,
      );
      responses.forEach((response, agentIndex) => {
        assert.equal(response.agentIndex, agentIndex, name);
        assert.match(response.text, new RegExp(`^Agent ${response.globalIndex} `), name);
      });
      const urls = proxy.requests
        .slice(before)
        .map((request) => request.url)
        .sort();
      assert.deepEqual(
        urls,
        globals.map((index) => `/agent/${index}/v1/chat/completions`).sort(),
        name,
      );
    }
  });

  test('an agent the proxy cannot reach, and a proxy that is not there, give clear failures', async (t) => {
    const { swarm, endpoints, proxy } = await laptopSetup(t, 2);
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints,
      proxyUrl: proxy.url,
      model: 'mock-model',
      modelMaxContext: 8192,
      retryDelayMs: 1,
      maxRetries: 1,
    });
    const [alive, dead] = await pool.broadcastPrompt('hello');
    assert.equal(alive!.success, true);
    assert.equal(dead!.failureKind, 'connect');
    assert.match(
      dead!.error ?? '',
      /^cannot connect to compute-002\.invalid:8000 \(HTTP 502 from agent 1 \(compute-002\.invalid:8000\) via proxy 127\.0\.0\.1:\d+\)$/,
    );
    assert.equal(
      proxy.requests.filter((request) => request.url.startsWith('/agent/1/')).length,
      2,
      '502 retried once',
    );

    await proxy.close();
    const noProxy = await pool.post(0, 'x');
    // The proxy itself, not an agent behind it (an agent it cannot reach is its 502 above).
    assert.equal(noProxy.failureKind, 'proxy-unreachable');
    assert.match(
      noProxy.error ?? '',
      /^cannot connect to the proxy at 127\.0\.0\.1:\d+ \(ECONNREFUSED\), agent 0; is the proxy running and the SSH tunnel up\?$/,
    );
  });

  test('direct mode never sends proxy headers', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      proxyUrl: null,
      proxyToken: 'unused',
      model: 'm',
      modelMaxContext: 8192,
    });
    await pool.post(0, 'x');
    const headers = swarm.agents[0]!.requests[0]!.headers as unknown as {
      lower?: Record<string, string>;
    } & Record<string, unknown>;
    const text = JSON.stringify(headers).toLowerCase();
    assert.ok(!text.includes('proxy-authorization'));
    assert.ok(!text.includes('x-timeout'));
  });
});
