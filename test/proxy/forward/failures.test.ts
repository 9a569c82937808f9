import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import {
  open,
  openChat,
  readChunks,
  responseFailure,
  send,
  startTestProxy,
  startUpstream,
} from '../proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };

interface ProxyStatus {
  in_flight: number;
  queued: number;
  endpoints: Array<{ in_flight: number; requests: number; errors: number }>;
}

async function status(proxyUrl: string): Promise<ProxyStatus> {
  return JSON.parse((await send(proxyUrl, '/status')).text) as ProxyStatus;
}

/** Poll /status (each poll a real request, no sleeping) until `predicate` holds. */
async function statusUntil(
  proxyUrl: string,
  predicate: (status: ProxyStatus) => boolean,
): Promise<ProxyStatus> {
  for (;;) {
    const current = await status(proxyUrl);
    if (predicate(current)) return current;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('agent failures', () => {
  test('an agent that refuses connections gives 502 "cannot connect to host:port"', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    await swarm.agents[1]!.stop();
    const response = await send(proxy.url, '/agent/1/v1/models');
    assert.equal(response.status, 502);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(response.text), {
      error: `cannot connect to 127.0.0.1:${swarm.agents[1]!.port}`,
    });
    assert.ok(proxy.logLines.some((line) => line.includes('[WARNING]') && line.includes('502')));
    assert.equal((await status(proxy.url)).endpoints[1]?.errors, 1);
    // The agent comes back: the proxy reaches it again.
    await swarm.agents[1]!.start();
    assert.equal((await send(proxy.url, '/agent/1/v1/models')).status, 200);
  });

  test('an agent that drops the connection before answering gives 502', async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'drop' } });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const response = await send(proxy.url, '/agent/0/v1/chat/completions', {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(response.status, 502);
    assert.deepEqual(JSON.parse(response.text), {
      error: `cannot connect to 127.0.0.1:${swarm.agents[0]!.port}`,
    });
  });

  test('an agent that dies mid-stream cuts the client response (no fake clean end)', async (t) => {
    const swarm = await startMockSwarm({
      count: 1,
      behavior: { failure: 'die-mid-stream', completionTokens: 50 },
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const { response } = openChat(proxy.url, { stream: true });
    const answer = await response;
    assert.equal(answer.statusCode, 200);
    await responseFailure(answer);
  });
});

describe('client disconnects', () => {
  test(
    'a non-streamed request is aborted at the agent when the client leaves',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const agent = swarm.agents[0]!;
      const arrived = agent.nextRequest();
      const aborted = agent.nextAbort();
      const { request, response } = openChat(proxy.url);
      response.catch(() => undefined);
      await arrived;
      request.destroy();
      const record = await aborted;
      assert.equal(record.aborted, true);
      const after = await statusUntil(proxy.url, (current) => current.in_flight === 0);
      assert.equal(after.endpoints[0]?.in_flight, 0);
    },
  );

  test(
    'a streamed request is aborted at the agent when the client leaves mid-stream',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({
        count: 1,
        behavior: { completionTokens: 100_000, tokenIntervalMs: 5 },
      });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const aborted = swarm.agents[0]!.nextAbort();
      const { request, response } = openChat(proxy.url, { stream: true });
      const answer = await response;
      await readChunks(answer).next();
      request.destroy();
      await aborted;
    },
  );
});

describe('--connector-limit', () => {
  /** An upstream that holds every request until the test releases it. */
  async function heldUpstream(t: Parameters<typeof startUpstream>[0]) {
    const held: ServerResponse[] = [];
    const arrivals: string[] = [];
    let concurrent = 0;
    let peak = 0;
    const upstream = await startUpstream(t, (request: IncomingMessage, response) => {
      concurrent++;
      peak = Math.max(peak, concurrent);
      arrivals.push(request.url ?? '');
      response.on('close', () => concurrent--);
      held.push(response);
    });
    return {
      upstream,
      arrivals,
      peak: () => peak,
      releaseOne: () => held.shift()?.end('ok'),
      nextArrival: () => once(upstream.events, 'request'),
    };
  }

  test('requests beyond the limit wait in FIFO order and all succeed', SAFETY, async (t) => {
    const agent = await heldUpstream(t);
    const proxy = await startTestProxy(t, [agent.upstream.endpoint], { connectorLimit: 2 });
    const responses: Array<Promise<{ status: number; text: string }>> = [];
    for (let index = 0; index < 5; index++) {
      responses.push(send(proxy.url, `/agent/0/work?n=${index}`));
      // Admit requests one at a time so that the queue order is known.
      await statusUntil(proxy.url, (current) => current.in_flight + current.queued === index + 1);
    }
    const waiting = await status(proxy.url);
    assert.equal(waiting.in_flight, 2);
    assert.equal(waiting.queued, 3);
    assert.deepEqual(agent.arrivals, ['/work?n=0', '/work?n=1']);
    for (let released = 0; released < 5; released++) {
      const arrival = released < 3 ? agent.nextArrival() : undefined;
      agent.releaseOne();
      await arrival;
    }
    const results = await Promise.all(responses);
    assert.deepEqual(
      results.map((result) => [result.status, result.text]),
      Array.from({ length: 5 }, () => [200, 'ok']),
    );
    assert.deepEqual(
      agent.arrivals,
      [0, 1, 2, 3, 4].map((index) => `/work?n=${index}`),
    );
    assert.equal(agent.peak(), 2, 'the agent never saw more than 2 at once');
  });

  test('a queued request whose client leaves is dropped from the queue', SAFETY, async (t) => {
    const agent = await heldUpstream(t);
    const proxy = await startTestProxy(t, [agent.upstream.endpoint], { connectorLimit: 1 });
    const first = send(proxy.url, '/agent/0/first');
    await agent.nextArrival();
    const queued = open(proxy.url, '/agent/0/abandoned');
    queued.response.catch(() => undefined);
    await statusUntil(proxy.url, (current) => current.queued === 1);
    queued.request.destroy();
    await statusUntil(proxy.url, (current) => current.queued === 0);
    const third = send(proxy.url, '/agent/0/third');
    const thirdArrival = agent.nextArrival();
    agent.releaseOne();
    await thirdArrival;
    agent.releaseOne();
    assert.equal((await first).status, 200);
    assert.equal((await third).status, 200);
    assert.deepEqual(agent.arrivals, ['/first', '/third']);
  });
});

describe('proxy token', () => {
  test('with a token every route but /health needs Proxy-Authorization, which is never forwarded', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 's3cret-token' });
    assert.equal((await send(proxy.url, '/health')).status, 200);
    for (const path of [
      '/status',
      '/hosts',
      '/metrics',
      '/agent/0/v1/models',
      '/agent/9/x',
      '/v1/models',
      '/v1',
      '/nope',
    ]) {
      const response = await send(proxy.url, path);
      assert.equal(response.status, 401, path);
      assert.equal(response.headers['www-authenticate'], 'Bearer realm="aurora-swarm-proxy"');
      assert.equal(typeof (JSON.parse(response.text) as { error: unknown }).error, 'string');
    }
    const post = await send(proxy.url, '/v1/chat/completions', { method: 'POST', body: '{}' });
    assert.equal(post.status, 401);
    for (const wrong of [
      'Bearer wrong',
      'Bearer s3cret-token-and-more',
      'Basic s3cret-token',
      's3cret-token',
    ]) {
      const response = await send(proxy.url, '/status', {
        headers: [['Proxy-Authorization', wrong]],
      });
      assert.equal(response.status, 401, wrong);
    }
    assert.equal(swarm.agents[0]!.stats.requests, 0);
    const authorized = await send(proxy.url, '/agent/0/v1/models', {
      headers: [
        ['Proxy-Authorization', 'Bearer s3cret-token'],
        ['Authorization', 'Bearer vllm-key'],
      ],
    });
    assert.equal(authorized.status, 200);
    const recorded = swarm.agents[0]!.requests.at(-1);
    assert.equal(recorded?.headers['proxy-authorization'], undefined);
    assert.equal(recorded?.headers.authorization, 'Bearer vllm-key');
    const statusResponse = await send(proxy.url, '/status', {
      headers: [['Proxy-Authorization', 'bearer s3cret-token']],
    });
    assert.equal(statusResponse.status, 200, 'the scheme is case-insensitive');
    for (const path of ['/metrics', '/hosts']) {
      const response = await send(proxy.url, path, {
        headers: [['Proxy-Authorization', 'Bearer s3cret-token']],
      });
      assert.equal(response.status, 200, path);
    }
    const pooled = await send(proxy.url, '/v1/models', {
      headers: [
        ['Proxy-Authorization', 'Bearer s3cret-token'],
        ['Authorization', 'Bearer vllm-key'],
      ],
    });
    assert.equal(pooled.status, 200);
    assert.equal(pooled.headers['x-agent-index'], '0');
    const pooledRecorded = swarm.agents[0]!.requests.at(-1);
    assert.equal(pooledRecorded?.url, '/v1/models');
    assert.equal(pooledRecorded?.headers['proxy-authorization'], undefined);
    assert.equal(pooledRecorded?.headers.authorization, 'Bearer vllm-key');
  });

  test('the startup warns when bound beyond loopback without a token, not otherwise', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const open0 = await startTestProxy(t, swarm.endpoints, { host: '0.0.0.0' });
    assert.ok(
      open0.logLines.some(
        (line) =>
          line.includes('[WARNING]') &&
          line.includes(`anyone who can reach port ${open0.port} can use every agent (1)`) &&
          line.includes('every user logged in to it') &&
          line.includes('--host 127.0.0.1') &&
          line.includes('--token') &&
          line.includes('AURORA_SWARM_PROXY_TOKEN'),
      ),
    );
    const closed = await startTestProxy(t, swarm.endpoints, { host: '0.0.0.0', token: 't' });
    assert.ok(!closed.logLines.some((line) => line.includes('[WARNING]')));
    const loopback = await startTestProxy(t, swarm.endpoints);
    assert.ok(!loopback.logLines.some((line) => line.includes('[WARNING]')));
  });
});
