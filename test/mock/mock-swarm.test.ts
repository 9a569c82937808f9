import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';

async function postJson(url: string, body: unknown, signal?: AbortSignal) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6));
}

describe('simulated agents', () => {
  test('serve health, models and a hostfile that parses back', async (t) => {
    const swarm = await startMockSwarm({
      count: 3,
      tags: (index) => ({ role: index === 0 ? 'critic' : 'worker' }),
    });
    t.after(() => swarm.close());
    const parsed = parseHostfileText(swarm.hostfileText);
    assert.deepEqual(parsed, swarm.endpoints);
    assert.equal(parsed[0]?.tags.role, 'critic');
    const agent = swarm.agents[1]!;
    assert.equal((await fetch(`${agent.url}/health`)).status, 200);
    const models = (await (await fetch(`${agent.url}/v1/models`)).json()) as {
      data: Array<{ id: string; max_model_len: number }>;
    };
    assert.equal(models.data[0]?.id, 'meta-llama/Llama-3.1-70B-Instruct');
    assert.equal(models.data[0]?.max_model_len, 8192);
  });

  test('chat completions name the agent, and streaming gives the same text token by token', async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const url = `${swarm.agents[1]!.url}/v1/chat/completions`;
    const request = {
      messages: [{ role: 'user', content: 'Explain the SOS response in bacteria.' }],
    };
    const plain = (await (await postJson(url, request)).json()) as {
      object: string;
      choices: Array<{ message: { content: string }; finish_reason: string }>;
      usage: { completion_tokens: number };
    };
    assert.equal(plain.object, 'chat.completion');
    const text = plain.choices[0]!.message.content;
    assert.match(text, /^Agent 1 \(.*\) on "Explain the SOS response in bacteria\.": .*LexA/);
    assert.equal(plain.choices[0]!.finish_reason, 'stop');

    const streamed = await postJson(url, {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const events = sseEvents(await streamed.text());
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event));
    const deltas = chunks.flatMap((chunk) =>
      chunk.choices.map((choice: { delta: { content?: string } }) => choice.delta.content ?? ''),
    );
    assert.equal(deltas.join(''), text);
    assert.ok(deltas.filter((delta) => delta !== '').length > 5, 'one chunk per token');
    assert.equal(chunks.at(-1).usage.completion_tokens, plain.usage.completion_tokens);
  });

  test('completions take a prompt list and index the choices; max_tokens cuts with finish_reason length', async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { completionTokens: 10 } });
    t.after(() => swarm.close());
    const url = `${swarm.agents[0]!.url}/v1/completions`;
    type Choices = { choices: Array<{ index: number; text: string; finish_reason: string }> };
    const listed = await postJson(url, { prompt: ['first', 'second'], max_tokens: 50 });
    const body = (await listed.json()) as Choices;
    assert.deepEqual(
      body.choices.map((choice) => choice.index),
      [0, 1],
    );
    assert.match(body.choices[0]!.text, /"first"/);
    assert.match(body.choices[1]!.text, /"second"/);
    assert.equal(body.choices[0]!.finish_reason, 'stop');
    assert.equal(body.choices[0]!.text.trim().split(/\s+/).length, 10);
    const cut = (await (await postJson(url, { prompt: 'first', max_tokens: 4 })).json()) as Choices;
    assert.equal(cut.choices[0]!.finish_reason, 'length');
    assert.equal(cut.choices[0]!.text.trim().split(/\s+/).length, 4);
  });

  test('embeddings are unit vectors determined by the text', async (t) => {
    const swarm = await startMockSwarm({ count: 2, behavior: { embeddingDimensions: 8 } });
    t.after(() => swarm.close());
    const embed = async (index: number, input: unknown) =>
      (
        (await (await postJson(`${swarm.agents[index]!.url}/v1/embeddings`, { input })).json()) as {
          data: Array<{ index: number; embedding: number[] }>;
        }
      ).data;
    const [a, b] = await embed(0, ['same text', 'other text']);
    const [c] = await embed(1, 'same text');
    assert.equal(a!.embedding.length, 8);
    assert.deepEqual(a!.embedding, c!.embedding);
    assert.notDeepEqual(a!.embedding, b!.embedding);
    const norm = Math.hypot(...a!.embedding);
    assert.ok(Math.abs(norm - 1) < 1e-6, "unit length, in float32 as a model's tensor");
  });

  test('/generate answers with response and text', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const body = (await (
      await postJson(`${swarm.agents[0]!.url}/generate`, { prompt: 'hi' })
    ).json()) as { response: string; text: string };
    assert.match(body.response, /^Agent 0 /);
    assert.equal(body.text, body.response);
  });

  test('context overflow and bad requests give vLLM error bodies', async (t) => {
    const swarm = await startMockSwarm({ count: 1, behavior: { maxModelLen: 100 } });
    t.after(() => swarm.close());
    const url = `${swarm.agents[0]!.url}/v1/chat/completions`;
    const overflow = await postJson(url, {
      messages: [{ role: 'user', content: 'x'.repeat(400) }],
      max_tokens: 10,
    });
    assert.equal(overflow.status, 400);
    const error = (await overflow.json()) as { error: { message: string; code: number } };
    assert.equal(error.error.code, 400);
    assert.match(
      error.error.message,
      /^You passed 100 input tokens and requested 10 output tokens\. However, the model's context length is only 100 tokens/,
    );
    const bad = await fetch(url, { method: 'POST', body: 'not json' });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${swarm.agents[0]!.url}/nope`)).status, 404);
    assert.equal((await fetch(url)).status, 405);
  });

  test('records requests byte for byte', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    const agent = swarm.agents[0]!;
    const seen = agent.nextRequest();
    // node:http sends the path as given; fetch would normalise the '..'.
    const sent = request({
      host: agent.host,
      port: agent.port,
      path: '/a%2Fb/../c?x=%20y&x=2',
      headers: { authorization: 'Bearer k' },
    });
    sent.end();
    const [response] = (await once(sent, 'response')) as [IncomingMessage];
    response.resume();
    const recorded = await seen;
    assert.equal(recorded.url, '/a%2Fb/../c?x=%20y&x=2');
    assert.equal(recorded.headers.authorization, 'Bearer k');
    assert.equal(response.statusCode, 404);
    assert.equal(agent.requests.length, 1);
  });

  describe('failure injection', () => {
    test('status answers with the injected code', async (t) => {
      const swarm = await startMockSwarm({
        count: 1,
        behavior: { failure: 'status', failureStatus: 503 },
      });
      t.after(() => swarm.close());
      const response = await fetch(`${swarm.agents[0]!.url}/v1/models`);
      assert.equal(response.status, 503);
      assert.match(
        ((await response.json()) as { error: { message: string } }).error.message,
        /injected failure on agent 0/,
      );
    });

    test('malformed answers 200 with invalid JSON', async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'malformed' } });
      t.after(() => swarm.close());
      const response = await fetch(`${swarm.agents[0]!.url}/v1/models`);
      assert.equal(response.status, 200);
      await assert.rejects(response.json());
    });

    test('hang never answers, and the agent sees the client leave', async (t) => {
      const swarm = await startMockSwarm({ count: 1, behavior: { failure: 'hang' } });
      t.after(() => swarm.close());
      const agent = swarm.agents[0]!;
      const controller = new AbortController();
      const arrived = agent.nextRequest();
      const aborted = agent.nextAbort();
      const pending = fetch(`${agent.url}/v1/models`, { signal: controller.signal });
      await arrived;
      controller.abort();
      await assert.rejects(pending);
      const request = await aborted;
      assert.equal(request.aborted, true);
      assert.equal(agent.stats.aborted, 1);
    });

    test('drop and die-mid-stream cut the connection; they are not counted as client aborts', async (t) => {
      const swarm = await startMockSwarm({
        count: 2,
        perAgent: (index) => ({ failure: index === 0 ? 'drop' : 'die-mid-stream' }),
      });
      t.after(() => swarm.close());
      await assert.rejects(fetch(`${swarm.agents[0]!.url}/v1/models`));
      const response = await postJson(`${swarm.agents[1]!.url}/v1/chat/completions`, {
        stream: true,
        messages: [{ role: 'user', content: 'hello' }],
      });
      assert.equal(response.status, 200);
      await assert.rejects(response.text());
      assert.equal(swarm.agents[0]!.stats.aborted + swarm.agents[1]!.stats.aborted, 0);
    });

    test('stop refuses connections and start listens on the same port again', async (t) => {
      const swarm = await startMockSwarm({ count: 1 });
      t.after(() => swarm.close());
      const agent = swarm.agents[0]!;
      const port = agent.port;
      await agent.stop();
      await assert.rejects(fetch(`${agent.url}/health`), (error: Error) =>
        /ECONNREFUSED/.test(String((error.cause as Error)?.message ?? error)),
      );
      await agent.start();
      assert.equal(agent.port, port);
      assert.equal((await fetch(`${agent.url}/health`)).status, 200);
    });

    test('failureRate 0 never fails', async (t) => {
      const swarm = await startMockSwarm({
        count: 1,
        behavior: { failure: 'status', failureRate: 0 },
      });
      t.after(() => swarm.close());
      assert.equal((await fetch(`${swarm.agents[0]!.url}/health`)).status, 200);
    });
  });

  test('tracks peak in-flight across the swarm', async (t) => {
    const swarm = await startMockSwarm({ count: 2, behavior: { failure: 'hang' } });
    t.after(() => swarm.close());
    const controller = new AbortController();
    const arrivals = [swarm.agents[0]!.nextRequest(), swarm.agents[1]!.nextRequest()];
    const pending = swarm.agents.map((agent) =>
      fetch(`${agent.url}/health`, { signal: controller.signal }).catch(() => undefined),
    );
    await Promise.all(arrivals);
    assert.equal(swarm.inFlight.inFlight, 2);
    assert.equal(swarm.inFlight.peakInFlight, 2);
    const aborts = swarm.agents.map((agent) => agent.nextAbort());
    controller.abort();
    await Promise.all([...pending, ...aborts]);
    assert.equal(swarm.inFlight.inFlight, 0);
  });

  test('rejects invalid options with a clear message', async () => {
    await assert.rejects(startMockSwarm({ count: 0 }), InvalidOptionError);
    await assert.rejects(
      startMockSwarm({ count: 1, behavior: { latencyMs: -1 } }),
      /latencyMs must be a non-negative number, got -1/,
    );
    await assert.rejects(
      startMockSwarm({ count: 1, behavior: { failure: 'boom' as never } }),
      /failure must be one of/,
    );
  });
});
