import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { startMockSwarm } from '../../../src/mock/mock-swarm.js';
import { MAX_REPLAYABLE_BODY_BYTES } from '../../../src/proxy/forward/pooled-request.js';
import {
  open,
  responseFailure,
  send,
  startTestProxy,
  startUpstream,
  type TestUpstream,
} from '../proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };
const JSON_HEADERS: Array<[string, string]> = [['Content-Type', 'application/json']];

function chatBody(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ messages: [{ role: 'user', content }], ...extra });
}

/** POST a chat completion with a Content-Length (a body that can be sent again). */
async function chat(proxyUrl: string, headers: Array<[string, string]> = []) {
  const body = chatBody('Hello swarm');
  return send(proxyUrl, '/v1/chat/completions', {
    method: 'POST',
    headers: [...JSON_HEADERS, ['Content-Length', String(Buffer.byteLength(body))], ...headers],
    body,
  });
}

function answerText(text: string): string {
  return (JSON.parse(text) as { choices: Array<{ message: { content: string } }> }).choices[0]
    ?.message.content as string;
}

/** A session id that the proxy pins to agent `index` while all `count` agents are healthy. */
async function sessionPinnedTo(proxyUrl: string, index: number): Promise<string> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const session = `session-${attempt}`;
    const response = await send(proxyUrl, '/v1/models', { headers: [['X-Session-Id', session]] });
    if (response.headers['x-agent-index'] === String(index)) return session;
  }
  throw new Error(`no session pinned to agent ${index}`);
}

/** Upstreams that hold every request until the test answers it. */
async function holdingUpstreams(t: Parameters<typeof startUpstream>[0], count: number) {
  const arrivals = new EventEmitter();
  const held: Array<Array<ServerResponse>> = [];
  const upstreams: TestUpstream[] = [];
  for (let index = 0; index < count; index++) {
    held.push([]);
    upstreams.push(
      await startUpstream(t, (_request: IncomingMessage, response: ServerResponse) => {
        held[index]!.push(response);
        arrivals.emit('request', index);
      }),
    );
  }
  return { upstreams, held, arrivals };
}

describe('one endpoint for the whole swarm: /v1/*', () => {
  test(
    'a chat completion reaches one agent, which X-Agent-Index names; proxy headers stay behind',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const response = await chat(proxy.url);
      assert.equal(response.status, 200);
      const index = Number(response.headers['x-agent-index']);
      assert.ok(index >= 0 && index < 3);
      assert.match(answerText(response.text), new RegExp(`^Agent ${index} `));
      const recorded = swarm.agents[index]!.requests.at(-1);
      assert.equal(recorded?.url, '/v1/chat/completions');
      assert.equal(recorded?.body, chatBody('Hello swarm'));

      const pinned = await send(proxy.url, '/v1/models?x=1', {
        headers: [
          ['X-Session-Id', 'abc'],
          ['X-Other', 'kept'],
        ],
      });
      assert.equal(pinned.status, 200);
      const seen = swarm.agents[Number(pinned.headers['x-agent-index'])]!.requests.at(-1);
      assert.equal(seen?.url, '/v1/models?x=1');
      assert.equal(seen?.headers['x-session-id'], undefined);
      assert.equal(seen?.headers['x-other'], 'kept');
    },
  );

  test('X-Agent-Tag restricts the choice; it is not forwarded', SAFETY, async (t) => {
    const swarm = await startMockSwarm({
      count: 4,
      tags: (index) => ({ role: index === 2 ? 'critic' : 'worker', zone: index < 2 ? 'a' : 'b' }),
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    for (let request = 0; request < 8; request++) {
      const response = await chat(proxy.url, [['X-Agent-Tag', 'role=critic']]);
      assert.equal(response.headers['x-agent-index'], '2');
    }
    assert.equal(swarm.agents[2]!.requests.at(-1)?.headers['x-agent-tag'], undefined);
    for (let request = 0; request < 8; request++) {
      const response = await chat(proxy.url, [['X-Agent-Tag', 'role=worker, zone=b']]);
      assert.equal(response.headers['x-agent-index'], '3');
    }
    for (let request = 0; request < 8; request++) {
      const response = await send(proxy.url, '/v1/models', {
        headers: [
          ['X-Agent-Tag', 'role=worker'],
          ['X-Agent-Tag', 'zone=a'],
        ],
      });
      assert.ok(['0', '1'].includes(String(response.headers['x-agent-index'])));
    }
  });

  test(
    'a malformed X-Agent-Tag is 400, and so is one no agent has (not 503: SDKs retry those); no agent is contacted',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2, tags: () => ({ role: 'worker' }) });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const malformed = await chat(proxy.url, [['X-Agent-Tag', 'role']]);
      assert.equal(malformed.status, 400);
      assert.deepEqual(JSON.parse(malformed.text), {
        error:
          'invalid X-Agent-Tag header "role": expected key=value (several separated by commas)',
      });
      const unmatched = await chat(proxy.url, [['X-Agent-Tag', 'role=critic']]);
      assert.equal(unmatched.status, 400);
      assert.match(String(unmatched.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(unmatched.text), {
        error: 'no agent has the tag(s) role=critic asked for by X-Agent-Tag',
      });
      assert.equal(swarm.agents[0]!.stats.requests + swarm.agents[1]!.stats.requests, 0);
      assert.match(
        (await send(proxy.url, '/metrics')).text,
        /^aurora_swarm_proxy_no_healthy_agent_total 0$/m,
      );
    },
  );

  test(
    'a dead agent is taken out for every request: a few connection attempts, not one per request',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      await swarm.agents[1]!.stop();
      // No health checks: the connection failures of real requests are the only signal.
      const proxy = await startTestProxy(t, swarm.endpoints, { unhealthyThreshold: 2 });
      for (let request = 0; request < 30; request++) {
        const response = await chat(proxy.url);
        assert.equal(response.status, 200);
        assert.equal(response.headers['x-agent-index'], '0');
      }
      const metrics = (await send(proxy.url, '/metrics')).text;
      assert.match(metrics, /^aurora_swarm_proxy_upstream_errors_total\{kind="connect"\} 2$/m);
      assert.match(metrics, /^aurora_swarm_proxy_retries_total 2$/m);
      await proxy.waitForLog(
        /Agent 1 \(127\.0\.0\.1:\d+\) is unhealthy: 2 connection failure\(s\) in a row .*; no health checks \(--health-interval 0\): given requests again in 10s/,
      );
    },
  );

  test('no healthy agent: 503 JSON naming the reason', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2, tags: () => ({ role: 'worker' }) });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { healthIntervalSeconds: 3600 });
    await swarm.agents[0]!.stop();
    await swarm.agents[1]!.stop();
    await proxy.checkHealth();
    const all = await chat(proxy.url);
    assert.equal(all.status, 503);
    assert.deepEqual(JSON.parse(all.text), {
      error: 'no healthy agent: all 2 agent(s) are unhealthy',
    });
    const tagged = await chat(proxy.url, [['X-Agent-Tag', 'role=worker']]);
    assert.equal(tagged.status, 503);
    assert.deepEqual(JSON.parse(tagged.text), {
      error: 'no healthy agent has the tag(s) role=worker asked for by X-Agent-Tag',
    });
  });

  test(
    'least in flight: with one agent busy, the next request goes to the idle one',
    SAFETY,
    async (t) => {
      const { upstreams, held, arrivals } = await holdingUpstreams(t, 2);
      const proxy = await startTestProxy(
        t,
        upstreams.map((upstream) => upstream.endpoint),
      );
      for (let round = 0; round < 6; round++) {
        const first = once(arrivals, 'request');
        const firstResponse = send(proxy.url, '/v1/models');
        const [busy] = (await first) as [number];
        const second = once(arrivals, 'request');
        const secondResponse = send(proxy.url, '/v1/models');
        const [chosen] = (await second) as [number];
        assert.notEqual(chosen, busy, `round ${round}`);
        for (const list of held) for (const response of list.splice(0)) response.end('{}');
        const answers = await Promise.all([firstResponse, secondResponse]);
        assert.deepEqual(
          answers.map((answer) => answer.headers['x-agent-index']),
          [String(busy), String(chosen)],
        );
      }
    },
  );

  test(
    'X-Session-Id pins a session to one agent, and only its own agent leaving moves it',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 4 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints, { healthIntervalSeconds: 3600 });
      await proxy.checkHealth();
      const agentOf = async (session: string) =>
        (await chat(proxy.url, [['X-Session-Id', session]])).headers['x-agent-index'];
      const pinned = await agentOf('user-17');
      for (let request = 0; request < 10; request++) assert.equal(await agentOf('user-17'), pinned);
      const used = new Set<unknown>();
      for (let session = 0; session < 40; session++) used.add(await agentOf(`user-${session}`));
      assert.ok(used.size > 1, 'sessions spread over several agents');
      const other = [0, 1, 2, 3].find((index) => String(index) !== pinned) as number;
      await swarm.agents[other]!.stop();
      await proxy.checkHealth();
      await proxy.checkHealth();
      assert.equal(
        await agentOf('user-17'),
        pinned,
        'another agent leaving does not move the session',
      );
    },
  );

  test(
    'an agent that refuses connections is retried on another one, before any byte',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const session = await sessionPinnedTo(proxy.url, 1);
      await swarm.agents[1]!.stop();
      const response = await chat(proxy.url, [['X-Session-Id', session]]);
      assert.equal(response.status, 200);
      assert.equal(response.headers['x-agent-index'], '0');
      assert.match(answerText(response.text), /^Agent 0 /);
      assert.equal(
        swarm.agents[0]!.requests.at(-1)?.body,
        chatBody('Hello swarm'),
        'the body was sent again whole',
      );
      assert.ok(
        proxy.logLines.some((line) =>
          /cannot connect to agent 1 .*; retrying on agent 0/.test(line),
        ),
      );
      assert.match(
        (await send(proxy.url, '/metrics')).text,
        /^aurora_swarm_proxy_retries_total 1$/m,
      );
    },
  );

  test('an agent that resets the connection before answering is retried too', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const session = await sessionPinnedTo(proxy.url, 0);
    swarm.agents[0]!.setBehavior({ failure: 'drop' });
    const response = await chat(proxy.url, [['X-Session-Id', session]]);
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-agent-index'], '1');
  });

  test('when no agent can be reached the 502 names those tried', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    await swarm.agents[0]!.stop();
    await swarm.agents[1]!.stop();
    const response = await chat(proxy.url);
    assert.equal(response.status, 502);
    const ports = swarm.agents.map((agent) => `127.0.0.1:${agent.port}`);
    const { error } = JSON.parse(response.text) as { error: string };
    assert.ok(
      error === `cannot connect to ${ports[0]}, ${ports[1]}` ||
        error === `cannot connect to ${ports[1]}, ${ports[0]}`,
      error,
    );
    assert.ok(['0', '1'].includes(String(response.headers['x-agent-index'])));
  });

  test(
    'bodies that cannot be sent again (over 1 MiB, or chunked) are not retried',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const session = await sessionPinnedTo(proxy.url, 1);
      await swarm.agents[1]!.stop();
      const before = swarm.agents[0]!.stats.requests;
      const largeBody = chatBody('x'.repeat(MAX_REPLAYABLE_BODY_BYTES));
      const large = await send(proxy.url, '/v1/chat/completions', {
        method: 'POST',
        headers: [
          ...JSON_HEADERS,
          ['Content-Length', String(Buffer.byteLength(largeBody))],
          ['X-Session-Id', session],
        ],
        body: largeBody,
      });
      assert.equal(large.status, 502);
      assert.equal(large.headers['x-agent-index'], '1');
      const { request, response } = open(proxy.url, '/v1/chat/completions', {
        method: 'POST',
        headers: [...JSON_HEADERS, ['X-Session-Id', session], ['Transfer-Encoding', 'chunked']],
      });
      void request;
      const chunked = await response;
      assert.equal(chunked.statusCode, 502);
      chunked.resume();
      assert.equal(swarm.agents[0]!.stats.requests, before, 'nothing went to the other agent');
    },
  );

  test(
    'no retry once the answer has started: a stream that dies mid-way is cut',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, swarm.endpoints);
      const session = await sessionPinnedTo(proxy.url, 1);
      swarm.agents[1]!.setBehavior({ failure: 'die-mid-stream', completionTokens: 50 });
      const before = swarm.agents[0]!.stats.requests;
      const { response } = open(proxy.url, '/v1/chat/completions', {
        method: 'POST',
        headers: [...JSON_HEADERS, ['X-Session-Id', session]],
        body: chatBody('stream please', { stream: true }),
      });
      const answer = await response;
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.headers['x-agent-index'], '1');
      await responseFailure(answer);
      assert.equal(swarm.agents[0]!.stats.requests, before);
    },
  );
});

describe('the official openai client against {proxy}/v1', () => {
  test('chat completion, non-streamed and streamed', SAFETY, async (t) => {
    const swarm = await startMockSwarm({
      count: 3,
      behavior: { model: 'mock-model', completionTokens: 6 },
    });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints);
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'mock-model', messages: [{ role: 'user', content: 'What is lacZ?' }] })
      .withResponse();
    const index = response.headers.get('x-agent-index');
    assert.match(completion.choices[0]?.message.content ?? '', new RegExp(`^Agent ${index} `));
    assert.equal(swarm.agents[Number(index)]!.requests.at(-1)?.headers.authorization, 'Bearer x');

    const stream = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'Stream it' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.ok(chunks > 1);
    assert.match(text, /^Agent \d /);

    const models = await client.models.list();
    assert.equal(typeof models.data[0]?.id, 'string');
  });

  test('with a proxy token sent as Proxy-Authorization by defaultHeaders', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2, behavior: { model: 'mock-model' } });
    t.after(() => swarm.close());
    const proxy = await startTestProxy(t, swarm.endpoints, { token: 'swarm-secret' });
    const denied = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      denied.chat.completions.create({
        model: 'mock-model',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 401,
    );
    const client = new OpenAI({
      baseURL: `${proxy.url}/v1`,
      apiKey: 'x',
      maxRetries: 0,
      defaultHeaders: { 'Proxy-Authorization': 'Bearer swarm-secret' },
    });
    const completion = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.match(completion.choices[0]?.message.content ?? '', /^Agent \d /);
    for (const agent of swarm.agents) {
      for (const request of agent.requests)
        assert.equal(request.headers['proxy-authorization'], undefined);
    }
  });
});
