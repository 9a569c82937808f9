import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
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

describe('timeouts', () => {
  test(
    'an agent that never answers gets 504 "upstream timeout after 0.2s" and is aborted',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 0.2 });
      const aborted = swarm.agents[0]!.nextAbort();
      const response = await send(proxy.url, '/agent/0/v1/models');
      assert.equal(response.status, 504);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(response.text), { error: 'upstream timeout after 0.2s' });
      await aborted;
    },
  );

  test(
    'X-Timeout overrides --timeout in both directions and is not forwarded',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      swarm.agents[0]!.setBehavior({ failure: 'hang' });
      swarm.agents[1]!.setBehavior({ latencyMs: 600 });
      const shortDefault = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 0.2 });
      const longDefault = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 300 });

      const shorter = await send(longDefault.url, '/agent/0/v1/models', {
        headers: [['X-Timeout', '0.25']],
      });
      assert.equal(shorter.status, 504);
      assert.deepEqual(JSON.parse(shorter.text), { error: 'upstream timeout after 0.25s' });

      const longer = await send(shortDefault.url, '/agent/1/v1/models', {
        headers: [['X-Timeout', '600']],
      });
      assert.equal(
        longer.status,
        200,
        'a 0.6 s answer passes with X-Timeout 600 despite --timeout 0.2',
      );
      const recorded = swarm.agents[1]!.requests.at(-1);
      assert.equal(recorded?.headers['x-timeout'], undefined);
    },
  );

  test('an invalid X-Timeout is a 400 naming the header and the value', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    for (const value of ['abc', '0', '-5', 'Infinity', 'NaN', '1e400', '0x10', '10s', '']) {
      const response = await send(proxy.url, '/agent/0/v1/models', {
        headers: [['X-Timeout', value]],
      });
      assert.equal(response.status, 400, JSON.stringify(value));
      const { error } = JSON.parse(response.text) as { error: string };
      assert.equal(
        error,
        `invalid X-Timeout header ${JSON.stringify(value)}: expected a positive number of seconds`,
      );
    }
    assert.equal(swarm.agents[0]!.stats.requests, 0);
    for (const value of ['1', '0.5', '2.5e1', ' 7 ']) {
      const response = await send(proxy.url, '/agent/0/v1/models', {
        headers: [['X-Timeout', value]],
      });
      assert.equal(response.status, 200, JSON.stringify(value));
    }
  });

  test('a stream that keeps producing outlives --timeout', SAFETY, async (t) => {
    // Gaps of 20 ms against a 1 s timeout: a loaded machine's scheduling jitter cannot
    // make a gap look like silence.
    const timeoutSeconds = 1;
    let sent = 0;
    const upstream = await startUpstream(t, async (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.flushHeaders();
      const startedAt = performance.now();
      // Tokens every 20 ms (each gap far below the timeout) for 2.5 timeouts in total.
      while (performance.now() - startedAt < 2.5 * timeoutSeconds * 1000) {
        response.write(`data: ${sent++}\n\n`);
        await delay(20);
      }
      response.end('data: [DONE]\n\n');
    });
    const proxy = await startTestProxy(t, [upstream.endpoint], { timeoutSeconds });
    const response = await send(proxy.url, '/agent/0/v1/chat/completions', {
      method: 'POST',
      body: '{"stream":true}',
    });
    assert.equal(response.status, 200);
    const events = response.text.split('\n\n').filter(Boolean);
    assert.equal(events.length, sent + 1);
    assert.equal(events.at(-1), 'data: [DONE]');
  });

  test(
    'a silent gap mid-body longer than the timeout cuts the response and the agent',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang-body' } });
      t.after(() => swarm.close());
      // 1 s: the agent's headers must beat it even on a loaded machine.
      const proxy = await startTestProxy(t, swarm.endpoints, { timeoutSeconds: 1 });
      const aborted = swarm.agents[0]!.nextAbort();
      const { response } = openChat(proxy.url);
      const answer = await response;
      assert.equal(answer.statusCode, 200, 'headers were already relayed');
      await responseFailure(answer);
      await aborted;
    },
  );

  test(
    'a slow reader does not trip the gap timeout while the agent waits on it',
    SAFETY,
    async (t) => {
      const chunk = Buffer.alloc(256 * 1024, 97);
      const total = 256; // 64 MiB: more than socket buffers absorb, so the proxy must pause
      const upstream = await startUpstream(t, async (_request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let index = 0; index < total; index++) {
          if (!response.write(chunk)) await once(response, 'drain');
        }
        response.end();
      });
      const proxy = await startTestProxy(t, [upstream.endpoint], { timeoutSeconds: 1 });
      const { response } = open(proxy.url, '/agent/0/big');
      const answer = await response;
      const reader = readChunks(answer);
      answer.pause();
      // Stay paused for longer than the timeout: the proxy stops reading the agent, and
      // that silence is the client's doing, not the agent's.
      await delay(3000);
      answer.resume();
      assert.equal(
        (await reader.rest()).length,
        total * chunk.length,
        'the response arrived whole',
      );
      assert.equal(answer.complete, true);
    },
  );
});
