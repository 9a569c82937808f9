/** The simulated agents' vLLM surfaces, one by one (docs/mock-agents.md is the table). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { MockAgentBehavior } from '../../src/mock/mock-behavior.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { decodeTokens, encodeTokens } from '../../src/mock/mock-tokens.js';
import { MOCK_ROUTES } from '../../src/mock/vllm-routes.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers are read field by field.
type Json = Record<string, any>;

async function agentOf(
  t: { after: (fn: () => unknown) => void },
  behavior: Partial<MockAgentBehavior> = {},
) {
  const swarm = await startMockSwarm({ count: 1, behavior });
  t.after(() => swarm.close());
  const agent = swarm.agents[0]!;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${agent.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Json };
  };
  return { swarm, agent, post };
}

function events(text: string): Json[] {
  const blocks = text.split('\n\n').filter((block) => block.startsWith('data: '));
  assert.equal(blocks.at(-1), 'data: [DONE]');
  return blocks.slice(0, -1).map((block) => JSON.parse(block.slice(6)) as Json);
}

const chat = (content: string, extra: Json = {}) => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

describe('simulated vLLM surfaces', () => {
  test('strict model: another name is 404 with param "model"; no model and any served alias are served', async (t) => {
    const { post } = await agentOf(t, { servedModelNames: ['first', 'second'] });
    const wrong = await post('/v1/chat/completions', chat('hi', { model: 'nope' }));
    assert.equal(wrong.status, 404);
    assert.deepEqual(wrong.json(), {
      error: {
        message: 'The model `nope` does not exist.',
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
    });
    assert.equal((await post('/v1/chat/completions', chat('hi'))).status, 200);
    const aliased = await post('/v1/chat/completions', chat('hi', { model: 'second' }));
    assert.equal(aliased.json().model, 'first', 'answers name the first served name');
  });

  test('chat: n choices, max_tokens defaults to what is left of the context, stop_reason on the last chunk', async (t) => {
    const { post } = await agentOf(t, { maxModelLen: 40, completionTokens: 100 });
    const three = (await post('/v1/chat/completions', chat('abcd', { n: 3 }))).json();
    assert.deepEqual(
      three.choices.map((choice: Json) => choice.index),
      [0, 1, 2],
    );
    // One prompt token (4 characters), 39 left for the reply.
    assert.equal(three.choices[0].finish_reason, 'length');
    assert.equal(three.usage.completion_tokens, 3 * 39);
    assert.equal(three.usage.prompt_tokens, 1);
    const stopped = (
      await post('/v1/chat/completions', chat('abcd', { stop: ['token'], stream: true }))
    ).text;
    const last = events(stopped).at(-1)!;
    assert.equal(last.choices[0].finish_reason, 'stop');
    assert.equal(last.choices[0].stop_reason, 'token');
  });

  test('stream_options: {} turns usage on; include_usage false turns it off; without stream it is refused', async (t) => {
    const { post } = await agentOf(t, { completionTokens: 3 });
    const withUsage = events(
      (await post('/v1/chat/completions', chat('hi', { stream: true, stream_options: {} }))).text,
    );
    const usageChunk = withUsage.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    assert.equal(usageChunk.usage.completion_tokens, 3);
    assert.deepEqual(withUsage[0]!.choices[0].delta, { role: 'assistant', content: '' });
    const without = events(
      (
        await post(
          '/v1/chat/completions',
          chat('hi', { stream: true, stream_options: { include_usage: false } }),
        )
      ).text,
    );
    assert.ok(without.every((chunk) => chunk.usage === undefined));
    const continuous = events(
      (
        await post('/v1/completions', {
          prompt: 'hi',
          stream: true,
          stream_options: { continuous_usage_stats: true },
        })
      ).text,
    );
    assert.ok(continuous.every((chunk) => typeof chunk.usage?.total_tokens === 'number'));
    const refused = await post(
      '/v1/chat/completions',
      chat('hi', { stream_options: { include_usage: true } }),
    );
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.json().error, {
      message: 'Stream options can only be defined when `stream=True`. (parameter=stream_options)',
      type: 'BadRequestError',
      param: 'stream_options',
      code: 400,
    });
    assert.equal(
      (await post('/v1/chat/completions', chat('hi', { stream_options: {} }))).status,
      200,
    );
  });

  test('completions: default max_tokens 16, prompt lists × n indexed prompt × n + j, token-id prompts', async (t) => {
    const { post } = await agentOf(t, { completionTokens: 40 });
    const single = (await post('/v1/completions', { prompt: 'hello' })).json();
    assert.equal(single.choices[0].finish_reason, 'length');
    assert.equal(single.usage.completion_tokens, 16);
    const listed = (
      await post('/v1/completions', { prompt: ['first', 'second'], n: 2, max_tokens: 50 })
    ).json();
    assert.deepEqual(
      listed.choices.map((choice: Json) => [
        choice.index,
        /"(first|second)"/.exec(choice.text)?.[1],
      ]),
      [
        [0, 'first'],
        [1, 'first'],
        [2, 'second'],
        [3, 'second'],
      ],
    );
    const ids = (
      await post('/v1/completions', { prompt: encodeTokens('from ids'), max_tokens: 50 })
    ).json();
    assert.match(ids.choices[0].text, /"from ids"/);
    const idLists = (
      await post('/v1/completions', {
        prompt: [encodeTokens('one'), encodeTokens('two')],
        max_tokens: 50,
      })
    ).json();
    assert.match(idLists.choices[1].text, /"two"/);
    const bad = await post('/v1/completions', { prompt: [0] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json().error.param, 'prompt');
    const streamed = events(
      (await post('/v1/completions', { prompt: ['a', 'b'], stream: true, max_tokens: 3 })).text,
    );
    const finals = streamed.filter((chunk) => chunk.choices[0]?.finish_reason);
    assert.deepEqual(
      finals.map((chunk) => [chunk.choices[0].index, chunk.choices[0].stop_reason]),
      [
        [0, null],
        [1, null],
      ],
    );
  });

  test('reasoning: message.reasoning and delta.reasoning; legacy reasoning_content; "only" and a cut thought give content null', async (t) => {
    const { post, agent } = await agentOf(t, { reasoning: 'on', completionTokens: 4 });
    const whole = (await post('/v1/chat/completions', chat('Why?'))).json();
    assert.match(whole.choices[0].message.reasoning, /^Agent 0 considers "Why\?"/);
    assert.equal(whole.choices[0].message.content.split(' ').filter(Boolean).length, 4);
    assert.equal('reasoning_content' in whole.choices[0].message, false);
    const streamed = events(
      (await post('/v1/chat/completions', chat('Why?', { stream: true }))).text,
    );
    const deltas = streamed.map((chunk) => chunk.choices[0]?.delta ?? {});
    assert.ok(deltas.some((delta) => typeof delta.reasoning === 'string'));
    const cut = (await post('/v1/chat/completions', chat('Why?', { max_tokens: 2 }))).json();
    assert.equal(cut.choices[0].message.content, null);
    assert.equal(cut.choices[0].finish_reason, 'length');
    agent.setBehavior({ reasoning: 'only', vllmVersion: 'legacy' });
    const legacy = (await post('/v1/chat/completions', chat('Why?'))).json();
    assert.equal(legacy.choices[0].message.content, null);
    assert.match(legacy.choices[0].message.reasoning_content, /^Agent 0 considers/);
    assert.equal('reasoning' in legacy.choices[0].message, false);
    const plain = (await post('/v1/completions', { prompt: 'Why?' })).json();
    assert.equal(typeof plain.choices[0].text, 'string', 'completions never reason');
  });

  test('embeddings: base64 is the float vector little-endian; dimensions shortens; token ids; --task generate refuses', async (t) => {
    const { post, agent } = await agentOf(t, { embeddingDimensions: 16 });
    const float = (await post('/v1/embeddings', { input: ['same', 'other'] })).json();
    const base64 = (
      await post('/v1/embeddings', { input: ['same', 'other'], encoding_format: 'base64' })
    ).json();
    const decoded = Buffer.from(base64.data[0].embedding, 'base64');
    const vector = Array.from({ length: decoded.length / 4 }, (_, index) =>
      decoded.readFloatLE(index * 4),
    );
    assert.equal(vector.length, 16);
    // The same float32 values both ways, as vLLM's encoding_pooling_output sends one tensor.
    assert.deepEqual(vector, float.data[0].embedding);
    assert.ok(float.data[0].embedding.every((value: number) => Math.fround(value) === value));
    assert.ok(vector.some((value) => value !== 0));
    const short = (await post('/v1/embeddings', { input: 'same', dimensions: 8 })).json();
    assert.equal(short.data[0].embedding.length, 8);
    assert.ok(
      Math.abs(Math.hypot(...short.data[0].embedding) - 1) < 1e-6,
      'unit length in float32',
    );
    const ids = (await post('/v1/embeddings', { input: encodeTokens('same') })).json();
    assert.deepEqual(ids.data[0].embedding, float.data[0].embedding);
    assert.equal((await post('/v1/embeddings', { input: 'x', dimensions: 17 })).status, 400);
    assert.equal(
      (await post('/v1/embeddings', { input: 'x', encoding_format: 'bytes!' })).status,
      400,
    );
    agent.setBehavior({ task: 'generate' });
    const refused = await post('/v1/embeddings', { input: 'x' });
    assert.equal(refused.status, 400);
    assert.equal(refused.json().error.message, 'The model does not support Embeddings API');
    agent.setBehavior({ task: 'embed' });
    assert.equal(
      (await post('/v1/chat/completions', chat('hi'))).json().error.message,
      'The model does not support Chat Completions API',
    );
    assert.equal(
      (await post('/v1/completions', { prompt: 'hi' })).json().error.message,
      'The model does not support Completions API',
    );
  });

  test('/tokenize and /detokenize round-trip and count like the context check', async (t) => {
    const { post } = await agentOf(t, { maxModelLen: 512 });
    const tokenized = (
      await post('/tokenize', { prompt: 'Hello, vLLM! ∑ done', return_token_strs: true })
    ).json();
    assert.equal(tokenized.count, tokenized.tokens.length);
    assert.equal(tokenized.max_model_len, 512);
    assert.equal(tokenized.token_strs.join(''), 'Hello, vLLM! ∑ done');
    assert.deepEqual((await post('/detokenize', { tokens: tokenized.tokens })).json(), {
      prompt: 'Hello, vLLM! ∑ done',
    });
    const fromChat = (
      await post('/tokenize', { messages: [{ role: 'user', content: 'abcdefgh' }] })
    ).json();
    assert.equal(fromChat.count, 2);
    assert.equal(fromChat.token_strs, null);
    assert.equal((await post('/detokenize', { tokens: [-1] })).status, 400);
    assert.equal((await post('/tokenize', { prompt: 'x', model: 'other' })).status, 404);
    assert.deepEqual(decodeTokens(encodeTokens('round ∞ trip 🙂')), { text: 'round ∞ trip 🙂' });
  });

  test('/version, /ping, /load, /health and /metrics with vLLM names fed by the live queue', async (t) => {
    const { agent, post } = await agentOf(t, {
      maxNumSeqs: 1,
      tokenIntervalMs: 20,
      completionTokens: 200,
    });
    assert.deepEqual(await (await fetch(`${agent.url}/version`)).json(), {
      version: '0.17.1+mock',
    });
    assert.equal((await fetch(`${agent.url}/ping`, { method: 'POST' })).status, 200);
    assert.equal((await fetch(`${agent.url}/health`)).status, 200);
    const controller = new AbortController();
    const running = agent.nextRequest();
    const first = fetch(`${agent.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a', max_tokens: 200, stream: true }),
      signal: controller.signal,
    });
    await running;
    const firstResponse = await first;
    const waiting = agent.nextRequest();
    const second = post('/v1/completions', { prompt: 'b', max_tokens: 1 });
    await waiting;
    const load = await (await fetch(`${agent.url}/load`)).json();
    assert.deepEqual(load, { server_load: 2 });
    const metrics = await (await fetch(`${agent.url}/metrics`)).text();
    const model = 'meta-llama/Llama-3.1-70B-Instruct';
    assert.match(
      metrics,
      new RegExp(`^vllm:num_requests_running\\{engine="0",model_name="${model}"\\} 1$`, 'm'),
    );
    assert.match(
      metrics,
      new RegExp(`^vllm:num_requests_waiting\\{engine="0",model_name="${model}"\\} 1$`, 'm'),
    );
    assert.match(metrics, /^# TYPE vllm:kv_cache_usage_perc gauge$/m);
    controller.abort();
    await firstResponse.body?.cancel().catch(() => undefined);
    assert.equal((await second).status, 200);
    const after = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(after, /^vllm:num_requests_waiting\{[^}]*\} 0$/m);
    assert.match(after, /^vllm:generation_tokens_total\{[^}]*\} 1$/m);
    assert.match(after, /^vllm:request_success_total\{[^}]*finished_reason="length"\} 1$/m);
    agent.setBehavior({ vllmVersion: 'legacy' });
    const legacy = await (await fetch(`${agent.url}/metrics`)).text();
    assert.match(legacy, /^vllm:gpu_cache_usage_perc\{model_name="[^"]+"\} 0$/m);
  });

  test('--failure stream-error: tokens, then the in-band error and [DONE]; not streamed it is a 500', async (t) => {
    const { post, agent } = await agentOf(t, { failure: 'stream-error', completionTokens: 10 });
    const chunks = events((await post('/v1/chat/completions', chat('hi', { stream: true }))).text);
    assert.deepEqual(chunks.at(-1), {
      error: {
        message: 'Internal server error',
        type: 'InternalServerError',
        param: null,
        code: 500,
      },
    });
    assert.ok(chunks.some((chunk) => typeof chunk.choices?.[0]?.delta?.content === 'string'));
    const whole = await post('/v1/completions', { prompt: 'hi' });
    assert.equal(whole.status, 500);
    assert.equal((await fetch(`${agent.url}/v1/models`)).status, 200, 'other routes answer');
    agent.setBehavior({ vllmVersion: 'legacy' });
    const legacy = events((await post('/v1/chat/completions', chat('hi', { stream: true }))).text);
    assert.equal(legacy.at(-1)?.object, 'error');
  });

  test('--failure malformed respects stream: a broken event instead of a broken JSON body', async (t) => {
    const { post } = await agentOf(t, { failure: 'malformed' });
    const streamed = await post('/v1/chat/completions', chat('hi', { stream: true }));
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /^data: \{"id": "cmpl-broken", "choices": \[\n\n$/);
    const whole = await post('/v1/chat/completions', chat('hi'));
    assert.throws(() => whole.json());
  });

  test('legacy dialect: flat errors and the old context-length wording', async (t) => {
    const { post } = await agentOf(t, { vllmVersion: 'legacy', maxModelLen: 100 });
    const overflow = await post('/v1/chat/completions', chat('x'.repeat(400), { max_tokens: 10 }));
    assert.deepEqual(overflow.json(), {
      object: 'error',
      message:
        "This model's maximum context length is 100 tokens. However, you requested 110 tokens (100 in the messages, 10 in the completion). Please reduce the length of the messages or completion.",
      type: 'BadRequestError',
      param: null,
      code: 400,
    });
    const noRoom = await post('/v1/chat/completions', chat('x'.repeat(400)));
    assert.match(
      noRoom.json().message,
      /However, you requested 100 tokens in the messages, Please reduce/,
    );
  });

  test('unknown routes and methods are FastAPI details; bodies must be JSON sent as JSON', async (t) => {
    const { agent } = await agentOf(t);
    const missing = await fetch(`${agent.url}/v2/nothing`);
    assert.deepEqual([missing.status, await missing.json()], [404, { detail: 'Not Found' }]);
    const method = await fetch(`${agent.url}/tokenize`);
    assert.deepEqual([method.status, await method.json()], [405, { detail: 'Method Not Allowed' }]);
    const text = await fetch(`${agent.url}/v1/completions`, {
      method: 'POST',
      body: '{"prompt":"x"}',
    });
    assert.equal(text.status, 400);
    assert.match(
      ((await text.json()) as Json).error.message,
      /Only 'application\/json' is allowed/,
    );
  });

  test('docs/mock-agents.md lists every route of the table the agents serve', () => {
    const doc = readFileSync(new URL('../../../docs/mock-agents.md', import.meta.url), 'utf8');
    for (const [path, route] of Object.entries(MOCK_ROUTES)) {
      const methods = route.methods.join('\\|');
      assert.ok(
        doc.includes(`\`${methods} ${path}\``) || doc.includes(`\`${route.methods[0]} ${path}\``),
        `${route.methods.join('|')} ${path} is not in docs/mock-agents.md`,
      );
    }
  });
});
