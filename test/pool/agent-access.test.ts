/**
 * Per-agent raw access: `pool.openaiConfig(i)` for the official OpenAI client and
 * `pool.request(i, path, init?)` for any other route, on sub-pools (their own numbering),
 * directly and through the real proxy with its token — the Python original's
 * `pool._openai_clients[i]` without building URLs by hand.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import OpenAI from 'openai';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';

const reply = (_prompt: string, agentIndex: number) => `I am agent ${agentIndex}`;

async function swarmOf(t: TestContext, count: number) {
  const swarm = await startMockSwarm({ count, behavior: { model: 'served-model', reply } });
  t.after(() => swarm.close());
  return swarm;
}

/** A laptop's hostfile: names only the proxy can reach, line i = agent i. */
function laptopEndpoints(count: number, tags = (_index: number) => '') {
  return parseHostfileText(
    Array.from(
      { length: count },
      (_, index) => `compute-${index + 1}.invalid\t8000${tags(index)}`,
    ).join('\n'),
  );
}

describe('pool.openaiConfig(i) with the official OpenAI client', () => {
  test('direct: a sub-pool index reaches that agent; the pool headers go along', async (t) => {
    const swarm = await swarmOf(t, 4);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      proxyUrl: null,
      headers: { 'x-lab': 'aurora' },
    });
    const sub = pool.select([3, 1]);
    const config = sub.openaiConfig(0);
    assert.deepEqual(config, {
      baseURL: `${swarm.agents[3]!.url}/v1`,
      defaultHeaders: { 'x-lab': 'aurora' },
    });
    const client = new OpenAI({ apiKey: 'EMPTY', ...config });
    const models = await client.models.list();
    assert.deepEqual(
      models.data.map((model) => model.id),
      ['served-model'],
    );
    const chat = await client.chat.completions.create({
      model: 'served-model',
      messages: [{ role: 'user', content: 'who?' }],
      max_tokens: 8,
    });
    assert.equal(chat.choices[0]!.message.content, 'I am agent 3');
    const completion = await client.completions.create({
      model: 'served-model',
      prompt: ['a', 'b'],
      max_tokens: 8,
    });
    assert.deepEqual(
      completion.choices.map((choice) => choice.text),
      ['I am agent 3', 'I am agent 3'],
    );
    const seen = swarm.agents[3]!.requests;
    assert.deepEqual(
      seen.map((request) => `${request.method} ${request.url}`),
      ['GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/completions'],
    );
    assert.ok(seen.every((request) => request.headers['x-lab'] === 'aurora'));
    assert.ok(seen.every((request) => request.headers.authorization === 'Bearer EMPTY'));
    assert.deepEqual(
      swarm.agents.map((agent) => agent.requests.length),
      [0, 0, 0, 3],
    );
  });

  test('through the real proxy: /agent/{globalIndex}/v1 with the proxy token and X-Timeout', async (t) => {
    const swarm = await swarmOf(t, 4);
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 'sekrit' });
    await using pool = new VLLMPool({
      endpoints: laptopEndpoints(4, (index) => `\trole=${index % 2 === 0 ? 'even' : 'odd'}`),
      proxyUrl: proxy.url,
      proxyToken: 'sekrit',
      timeoutMs: 90_000,
    });
    const odd = pool.byTag('role', 'odd'); // global 1, 3
    const config = odd.openaiConfig(1);
    assert.deepEqual(config, {
      baseURL: `${proxy.url}/agent/3/v1`,
      defaultHeaders: { 'x-timeout': '90', 'proxy-authorization': 'Bearer sekrit' },
    });
    const client = new OpenAI({ apiKey: 'EMPTY', ...config, maxRetries: 0 });
    const chat = await client.chat.completions.create({
      model: 'served-model',
      messages: [{ role: 'user', content: 'who?' }],
      max_tokens: 8,
    });
    assert.equal(chat.choices[0]!.message.content, 'I am agent 3');
    assert.deepEqual(
      (await client.models.list()).data.map((model) => model.id),
      ['served-model'],
    );
    const [request] = swarm.agents[3]!.requests;
    assert.equal(request!.url, '/v1/chat/completions');
    assert.equal(
      request!.headers['proxy-authorization'],
      undefined,
      'the token stays at the proxy',
    );
    assert.equal(request!.headers.authorization, 'Bearer EMPTY', 'the API key reaches the agent');
    // Without the token the proxy refuses: the header is what lets the client through.
    const stranger = new OpenAI({ apiKey: 'EMPTY', baseURL: config.baseURL, maxRetries: 0 });
    await assert.rejects(stranger.models.list(), { status: 401 });
  });

  test('an index outside the pool is a clear error', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, proxyUrl: null });
    assert.throws(() => pool.slice(1).openaiConfig(1), {
      name: 'InvalidArgumentError',
      message: 'openaiConfig: agent index 1 out of range [0, 1) of this pool',
    });
    assert.throws(() => pool.openaiConfig(-1), /agent index -1 out of range \[0, 2\)/);
    assert.throws(
      () => pool.openaiConfig('0' as unknown as number),
      /agent index "0" out of range/,
    );
  });
});

describe('pool.request(i, path, init?)', () => {
  test('any route of agent i, direct: GET /metrics, POST /tokenize with a JSON body', async (t) => {
    const swarm = await swarmOf(t, 3);
    await using pool = new EmbeddingPool({ endpoints: swarm.endpoints, proxyUrl: null });
    const sub = pool.slice(1);
    const metrics = await sub.request(1, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP vllm:/m);
    const tokenized = await sub.request(0, '/tokenize', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trace': 't-1' },
      body: JSON.stringify({ model: 'served-model', prompt: 'abcdefgh' }),
    });
    assert.equal(tokenized.status, 200);
    assert.equal(((await tokenized.json()) as { count: number }).count, 2);
    assert.deepEqual(
      swarm.agents.map((agent) =>
        agent.requests.map((request) => `${request.method} ${request.url}`),
      ),
      [[], ['POST /tokenize'], ['GET /metrics']],
    );
    assert.equal(swarm.agents[1]!.requests[0]!.headers['x-trace'], 't-1');
    const missing = await sub.request(0, '/no/such/route');
    assert.equal(missing.status, 404, 'any status is an answer');
  });

  test('through the real proxy, with the token, X-Timeout from timeoutMs, query kept', async (t) => {
    const swarm = await swarmOf(t, 3);
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 'sekrit' });
    await using pool = new VLLMPool({
      endpoints: laptopEndpoints(3),
      proxyUrl: proxy.url,
      proxyToken: 'sekrit',
    });
    const models = await pool.slice(2).request(0, '/v1/models?verbose=1', { timeoutMs: 5000 });
    assert.equal(models.status, 200);
    assert.equal(((await models.json()) as { data: { id: string }[] }).data[0]!.id, 'served-model');
    const [seen] = swarm.agents[2]!.requests;
    assert.equal(seen!.url, '/v1/models?verbose=1');
    await using tokenless = new VLLMPool({
      endpoints: laptopEndpoints(3),
      proxyUrl: proxy.url,
      proxyToken: undefined,
    });
    const refused = await tokenless.request(0, '/v1/models');
    assert.equal(refused.status, 401);
  });

  test('rejects when no answer comes: refused, timed out, aborted', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ latencyMs: 60_000 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, proxyUrl: null });
    await assert.rejects(pool.request(0, '/v1/models', { timeoutMs: 50 }), {
      name: 'TimeoutError',
    });
    const controller = new AbortController();
    const pending = pool.request(0, '/v1/models', { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { name: 'AbortError' });
    await using dead = new VLLMPool({
      endpoints: [createEndpoint('127.0.0.1', 1)],
      proxyUrl: null,
    });
    await assert.rejects(dead.request(0, '/health'), { code: 'ECONNREFUSED' });
  });

  test('misuse is a rejection: bad path, bad index, closed pool', async (t) => {
    const swarm = await swarmOf(t, 1);
    const pool = new VLLMPool({ endpoints: swarm.endpoints, proxyUrl: null });
    await assert.rejects(pool.request(0, 'v1/models'), {
      name: 'InvalidOptionError',
      message:
        'request: path must be a string starting with "/" (e.g. "/v1/models"), got "v1/models"',
    });
    await assert.rejects(pool.request(4, '/health'), { name: 'InvalidArgumentError' });
    await assert.rejects(pool.request(0, '/health', { timeoutMs: -1 }), {
      message: 'option timeoutMs: expected a finite number > 0, got -1',
    });
    await pool.close();
    await assert.rejects(pool.request(0, '/health'), { name: 'PoolClosedError' });
  });
});
