import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { startScriptedServer } from './pool-test-helpers.js';

type After = { after: (fn: () => Promise<void>) => void };

async function swarmOf(t: After, count: number) {
  const swarm = await startMockSwarm({ count });
  t.after(() => swarm.close());
  return swarm;
}

// A model and context length up front: no /v1/models lookup muddles request counts.
const known = { model: 'meta-llama/Llama-3.1-70B-Instruct', modelMaxContext: 8192 };

describe('failures are values with actionable messages', () => {
  test('a hung agent gives "timeout after N ms" and the request is aborted at the agent', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[1]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const aborted = swarm.agents[1]!.nextAbort();
    // Only the hung call gets the short timeout: the healthy one must not race a clock.
    const [ok, hung] = await Promise.all([
      pool.post(0, 'fine'),
      pool.post(1, 'stuck', { timeoutMs: 150 }),
    ]);
    assert.equal(ok!.success, true);
    assert.equal(hung!.success, false);
    assert.equal(hung!.failureKind, 'timeout');
    assert.match(
      hung!.error ?? '',
      /^timeout after 150 ms waiting for agent 1 at 127\.0\.0\.1:\d+$/,
    );
    await aborted;
  });

  test('a per-call timeoutMs overrides the pool default', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'hang-body' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const response = await pool.post(0, 'x', { timeoutMs: 120 });
    assert.equal(response.failureKind, 'timeout');
    assert.match(response.error ?? '', /^timeout after 120 ms/);
  });

  test("vLLM's {object:'error', message} answer gives the agent's own message", async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'status', failureStatus: 500 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const response = await pool.post(0, 'x');
    assert.equal(response.success, false);
    assert.equal(response.failureKind, 'agent-error');
    assert.equal(response.status, 500);
    assert.match(response.error ?? '', /^injected failure on agent 0 \(HTTP 500 from agent 0 at /);
  });

  test('the other error shapes: {error:{message}}, {error:"..."}, {detail}, and anything else', async (t) => {
    const answers: Record<string, [number, string]> = {
      openai: [
        400,
        JSON.stringify({
          error: { message: 'temperature must be >= 0', type: 'invalid_request_error' },
        }),
      ],
      proxy: [502, JSON.stringify({ error: 'cannot connect to compute-001:8000' })],
      gateway: [504, JSON.stringify({ error: 'upstream timeout after 300s' })],
      fastapi: [404, JSON.stringify({ detail: 'Not Found' })],
      html: [500, '<html>Internal Server Error</html>'],
      empty: [500, ''],
    };
    const server = await startScriptedServer((request) => {
      const prompt = JSON.parse(request.body).messages[0].content as string;
      return answers[prompt]!;
    });
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port: server.port, tags: {}, url: server.url }],
      ...known,
      maxRetries: 0,
    });
    const [openai, proxy, gateway, fastapi, html, empty] = await pool.sendAll(Object.keys(answers));
    // A 400 that depends on the request: sending it again cannot help.
    assert.equal(openai!.failureKind, 'invalid-request');
    assert.match(openai!.error ?? '', /^temperature must be >= 0 \(HTTP 400 from agent 0/);
    assert.equal(proxy!.failureKind, 'connect');
    assert.match(proxy!.error ?? '', /^cannot connect to compute-001:8000 \(HTTP 502/);
    assert.equal(gateway!.failureKind, 'timeout');
    assert.match(gateway!.error ?? '', /^upstream timeout after 300s/);
    assert.match(fastapi!.error ?? '', /^Not Found \(HTTP 404/);
    assert.equal(html!.failureKind, 'http');
    assert.match(
      html!.error ?? '',
      /^HTTP 500 from agent 0 at [^:]+:\d+: "<html>Internal Server Error<\/html>"$/,
    );
    assert.match(empty!.error ?? '', /an empty body$/);
  });

  test('a 200 with a body that is not JSON is a bad-response failure', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'malformed' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const response = await pool.post(0, 'x');
    assert.equal(response.failureKind, 'bad-response');
    assert.match(response.error ?? '', /answered 200 with a body that is not JSON: /);
  });

  test('a connection cut in the middle of the answer fails without a retry', async (t) => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' });
      // Cut only once the partial body has really left, so the client saw the answer start.
      response.write('{"id":"chatcmpl-', () => response.socket?.destroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port, tags: {}, url: `http://127.0.0.1:${port}` }],
      ...known,
      retryDelayMs: 1,
    });
    const response = await pool.post(0, 'x');
    assert.equal(response.failureKind, 'connect');
    assert.match(response.error ?? '', /broke in the middle of the answer/);
    assert.equal(requests, 1, 'no retry once bytes arrived');
  });

  test('a connection dropped before any answer is retried, then reported', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'drop' });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...known,
      maxRetries: 2,
      retryDelayMs: 1,
    });
    const response = await pool.post(0, 'x');
    assert.equal(response.failureKind, 'connect');
    assert.match(response.error ?? '', /closed before any answer/);
    assert.equal(swarm.agents[0]!.stats.requests, 3, 'first attempt + 2 retries');
  });

  test('503 is retried (honouring Retry-After) and a later success is returned', async (t) => {
    let calls = 0;
    const server = await startScriptedServer(() => {
      calls++;
      if (calls === 1)
        return [
          503,
          JSON.stringify({ object: 'error', message: 'loading' }),
          { 'retry-after': '0' },
        ];
      return [
        200,
        JSON.stringify({
          choices: [{ index: 0, message: { content: 'after retry' }, finish_reason: 'stop' }],
        }),
      ];
    });
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port: server.port, tags: {}, url: server.url }],
      ...known,
      retryDelayMs: 1,
    });
    const response = await pool.post(0, 'x');
    assert.equal(response.success, true);
    assert.equal(response.text, 'after retry');
    assert.equal(calls, 2);
  });

  test('400 is not retried', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'status', failureStatus: 400 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, retryDelayMs: 1 });
    await pool.post(0, 'x');
    assert.equal(swarm.agents[0]!.stats.requests, 1);
  });

  test('a dead agent: refused, retried, "cannot connect to host:port (ECONNREFUSED)"', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, retryDelayMs: 1 });
    const [alive, dead] = await pool.broadcastPrompt('anyone there?');
    assert.equal(alive!.success, true);
    assert.equal(dead!.failureKind, 'connect');
    assert.equal(
      dead!.error,
      `cannot connect to 127.0.0.1:${swarm.agents[1]!.port} (ECONNREFUSED), agent 1`,
    );
  });

  test('a retry that waits releases its concurrency slot; aborting the wait ends the call', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[1]!.stop();
    // One slot and a long retry delay: the live agent's call can only finish if the
    // dead agent's call gave its slot back while waiting to retry.
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...known,
      concurrency: 1,
      retryDelayMs: 60_000,
    });
    const controller = new AbortController();
    const deadCall = pool.post(1, 'dead', { signal: controller.signal });
    const aliveCall = await pool.post(0, 'alive');
    assert.equal(aliveCall.success, true);
    controller.abort();
    const dead = await deadCall;
    assert.equal(dead.failureKind, 'aborted');
    assert.match(dead.error ?? '', /aborted by the caller/);
  });

  test('abort via signal: in flight, queued and before the call', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, concurrency: 1 });
    const controller = new AbortController();
    const arrived = swarm.agents[0]!.nextRequest();
    const calls = pool.sendAll(['in flight', 'queued'], { signal: controller.signal });
    await arrived;
    const abortSeen = swarm.agents[0]!.nextAbort();
    controller.abort();
    const [inFlight, queued] = await calls;
    assert.equal(inFlight!.failureKind, 'aborted');
    assert.equal(queued!.failureKind, 'aborted');
    await abortSeen;
    assert.equal(swarm.agents[0]!.stats.requests, 1, 'the queued call was never sent');
    const early = await pool.post(0, 'x', { signal: AbortSignal.abort() });
    assert.equal(early.failureKind, 'aborted');
  });

  test('a host name that does not resolve says so and suggests the proxy', async () => {
    await using pool = new VLLMPool({
      endpoints: [
        {
          host: 'compute-001.invalid',
          port: 8000,
          tags: {},
          url: 'http://compute-001.invalid:8000',
        },
      ],
      ...known,
      proxyUrl: null,
    });
    const response = await pool.post(0, 'x');
    assert.equal(response.failureKind, 'connect');
    assert.match(
      response.error ?? '',
      /^cannot resolve host compute-001\.invalid \((ENOTFOUND|EAI_AGAIN)\), agent 0; .*set proxyUrl or AURORA_SWARM_PROXY_URL/,
    );
  });
});
