import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { send, startTestProxy } from './proxy-test-helpers.js';

describe('proxy routes', () => {
  test('the usage guide table: each /agent/{index}/... reaches hostfile line index', async (t) => {
    const swarm = await startMockSwarm({ count: 43 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);

    const chat = await send(proxy.url, '/agent/0/v1/chat/completions', {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({
        model: 'meta-llama/Llama-3.1-70B-Instruct',
        messages: [{ role: 'user', content: 'Hello!' }],
        max_tokens: 128,
      }),
    });
    assert.equal(chat.status, 200);
    const chatBody = JSON.parse(chat.text) as { choices: Array<{ message: { content: string } }> };
    assert.match(chatBody.choices[0]?.message.content ?? '', /^Agent 0 /);
    assert.equal(swarm.agents[0]?.requests.at(-1)?.url, '/v1/chat/completions');
    assert.equal(swarm.agents[0]?.requests.at(-1)?.method, 'POST');

    const models = await send(proxy.url, '/agent/3/v1/models');
    assert.equal(models.status, 200);
    assert.equal(swarm.agents[3]?.requests.at(-1)?.url, '/v1/models');
    assert.equal(swarm.agents[3]?.requests.at(-1)?.method, 'GET');

    const generate = await send(proxy.url, '/agent/42/generate', {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({ prompt: 'What is lacZ?' }),
    });
    assert.equal(generate.status, 200);
    assert.match((JSON.parse(generate.text) as { response: string }).response, /^Agent 42 /);
    for (const [index, agent] of swarm.agents.entries()) {
      const expected = index === 0 || index === 3 || index === 42 ? 1 : 0;
      assert.equal(agent.requests.length, expected, `agent ${index}`);
    }
  });

  test('GET /health answers {"status":"ok"}', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const response = await send(proxy.url, '/health');
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(response.text), { status: 'ok' });
    assert.equal(swarm.agents[0]?.stats.requests, 0, 'the proxy answers /health itself');
  });

  test('GET /status lists agents, uptime and endpoints with counters', async (t) => {
    const swarm = await startMockSwarm({
      count: 3,
      tags: (index) => (index === 2 ? { role: 'critic' } : undefined),
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    await send(proxy.url, '/agent/1/v1/models');
    const response = await send(proxy.url, '/status');
    assert.equal(response.status, 200);
    const status = JSON.parse(response.text) as {
      agents: number;
      uptime_seconds: number;
      endpoints: Array<Record<string, unknown>>;
    };
    assert.equal(status.agents, 3);
    assert.equal(typeof status.uptime_seconds, 'number');
    assert.ok(status.uptime_seconds >= 0);
    assert.equal(status.endpoints.length, 3);
    const [first, second, third] = status.endpoints;
    assert.deepEqual(
      { index: first?.index, host: first?.host, port: first?.port, tags: first?.tags },
      { index: 0, host: '127.0.0.1', port: swarm.agents[0]?.port, tags: {} },
    );
    assert.equal(second?.requests, 1);
    assert.equal(second?.in_flight, 0);
    assert.deepEqual(third?.tags, { role: 'critic' });
  });

  test('GET /status has every field the status page reads', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { healthIntervalSeconds: 3600 });
    await proxy.checkHealth();
    await send(proxy.url, '/agent/0/v1/models');
    await swarm.agents[1]!.stop();
    await send(proxy.url, '/agent/1/v1/models');
    const status = JSON.parse((await send(proxy.url, '/status')).text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(status).sort(), [
      'agents',
      'connector_limit',
      'endpoints',
      'health_checks',
      'healthy_agents',
      'in_flight',
      'queued',
      'requests_total',
      'timeout_seconds',
      'uptime_seconds',
    ]);
    assert.equal(status.agents, 2);
    assert.equal(status.healthy_agents, 2);
    assert.equal(status.requests_total, 2);
    assert.equal(status.in_flight, 0);
    assert.equal(status.queued, 0);
    assert.equal(typeof status.uptime_seconds, 'number');
    const [served, failed] = status.endpoints as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(served ?? {}).sort(), [
      'client_aborts',
      'errors',
      'healthy',
      'host',
      'in_flight',
      'index',
      'last_error',
      'last_error_at',
      'latency_ms',
      'port',
      'requests',
      'tags',
      'ttfb_ms',
    ]);
    assert.equal(served?.healthy, true);
    assert.equal(served?.last_error, null);
    assert.equal(served?.last_error_at, null);
    for (const key of ['latency_ms', 'ttfb_ms']) {
      const percentiles = served?.[key] as { p50: number; p90: number; p99: number };
      assert.deepEqual(Object.keys(percentiles), ['p50', 'p90', 'p99'], key);
      assert.ok(
        percentiles.p50 >= 0 &&
          percentiles.p50 <= percentiles.p90 &&
          percentiles.p90 <= percentiles.p99,
      );
    }
    assert.equal(failed?.latency_ms, null);
    assert.equal(failed?.ttfb_ms, null);
    assert.equal(failed?.errors, 1);
    assert.equal(failed?.last_error, `cannot connect to 127.0.0.1:${swarm.agents[1]!.port}`);
    assert.match(String(failed?.last_error_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test('GET /hosts lists host, port and tags in hostfile order', async (t) => {
    const swarm = await startMockSwarm({ count: 2, tags: () => ({ node: 'aurora-0003' }) });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const response = await send(proxy.url, '/hosts');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), {
      hosts: swarm.endpoints.map(({ host, port }) => ({
        host,
        port,
        tags: { node: 'aurora-0003' },
      })),
    });
  });

  test('index errors are 400 with a JSON error; out of range has the exact message', async (t) => {
    const swarm = await startMockSwarm({ count: 4 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const outOfRange = await send(proxy.url, '/agent/9/v1/models');
    assert.equal(outOfRange.status, 400);
    assert.match(String(outOfRange.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(outOfRange.text), { error: 'agent index 9 out of range [0, 4)' });
    for (const path of ['/agent/abc/v1/models', '/agent/-1/v1/models', '/agent/1.5/x', '/agent/']) {
      const response = await send(proxy.url, path);
      assert.equal(response.status, 400, path);
      assert.equal(typeof (JSON.parse(response.text) as { error: unknown }).error, 'string');
    }
    assert.equal(
      swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0),
      0,
      'no agent was contacted',
    );
  });

  test('unknown routes are 404 JSON and wrong methods on local routes 405', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    for (const path of ['/nope', '/v10/models', '/agents', '/healthz', '/index.html']) {
      const response = await send(proxy.url, path);
      assert.equal(response.status, 404, path);
      assert.equal(typeof (JSON.parse(response.text) as { error: unknown }).error, 'string');
    }
    const post = await send(proxy.url, '/health', { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal(typeof (JSON.parse(post.text) as { error: unknown }).error, 'string');
  });

  test('every method is forwarded, HEAD included', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
      const received = swarm.agents[0]!.nextRequest();
      await send(proxy.url, '/agent/0/anything', { method });
      assert.equal((await received).method, method);
    }
  });
});
