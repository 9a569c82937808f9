/**
 * The official `openai` npm client, which nobody here wrote, on every surface of the
 * simulated agents through the real proxy: per agent (`/agent/{i}/v1`) and pooled
 * (`/v1`). It decodes embeddings as base64 by default and reads errors from the nested
 * `{"error": {...}}` body, as it does against real vLLM.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';

const MODEL = 'meta-llama/Llama-3.1-70B-Instruct';
const SAFETY = { timeout: 30_000 };

async function setUp(t: Parameters<typeof startTestProxy>[0]) {
  const swarm = await startMockSwarm({
    count: 2,
    behavior: { maxModelLen: 1024, completionTokens: 6, embeddingDimensions: 16 },
  });
  t.after(() => swarm.close());
  const proxy = await startTestProxy(t, swarm.endpoints);
  return { swarm, proxy };
}

describe('the official openai client through the proxy', () => {
  for (const route of ['/agent/1/v1', '/v1']) {
    test(
      `${route}: chat, streamed usage, n, completions, embeddings, models, errors`,
      SAFETY,
      async (t) => {
        const { proxy } = await setUp(t);
        const client = new OpenAI({ baseURL: `${proxy.url}${route}`, apiKey: 'x', maxRetries: 0 });

        const models = await client.models.list();
        assert.equal(models.data[0]?.id, MODEL);

        const chat = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: 'What is lacZ?' }],
        });
        assert.match(chat.choices[0]?.message.content ?? '', /^Agent \d /);
        assert.equal(chat.usage?.completion_tokens, 6);

        const three = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: 'user', content: 'Three please' }],
          n: 3,
        });
        assert.deepEqual(
          three.choices.map((choice) => choice.index),
          [0, 1, 2],
        );

        for (const stream_options of [{ include_usage: true }, {}]) {
          const stream = await client.chat.completions.create({
            model: MODEL,
            messages: [{ role: 'user', content: 'Stream it' }],
            stream: true,
            stream_options,
          });
          let text = '';
          let usage: OpenAI.CompletionUsage | null | undefined;
          for await (const chunk of stream) {
            text += chunk.choices[0]?.delta.content ?? '';
            if (chunk.usage) usage = chunk.usage;
          }
          assert.match(text, /^Agent \d /);
          assert.equal(usage?.completion_tokens, 6, JSON.stringify(stream_options));
        }

        const completions = await client.completions.create({
          model: MODEL,
          prompt: ['first', 'second'],
          max_tokens: 20,
        });
        assert.deepEqual(
          completions.choices.map((choice) => [choice.index, /"(\w+)"/.exec(choice.text)?.[1]]),
          [
            [0, 'first'],
            [1, 'second'],
          ],
        );

        const byDefault = await client.embeddings.create({ model: MODEL, input: 'same text' });
        const asFloat = await client.embeddings.create({
          model: MODEL,
          input: 'same text',
          encoding_format: 'float',
        });
        const vector = byDefault.data[0]!.embedding;
        assert.equal(vector.length, 16);
        assert.ok(
          vector.some((value) => value !== 0),
          'not the garbage of an ignored base64',
        );
        // vLLM sends one float32 tensor both ways: the SDK's default and `float` are identical.
        assert.deepEqual(vector, asFloat.data[0]!.embedding);
        const eight = await client.embeddings.create({ model: MODEL, input: 'x', dimensions: 8 });
        assert.equal(eight.data[0]!.embedding.length, 8);

        await assert.rejects(
          client.chat.completions.create({
            model: 'no-such-model',
            messages: [{ role: 'user', content: 'hi' }],
          }),
          (error: unknown) =>
            error instanceof OpenAI.NotFoundError &&
            error.status === 404 &&
            error.message.includes('The model `no-such-model` does not exist.'),
        );
        await assert.rejects(
          client.chat.completions.create({
            model: MODEL,
            messages: [{ role: 'user', content: 'x'.repeat(8000) }],
            max_tokens: 10,
          }),
          (error: unknown) =>
            error instanceof OpenAI.BadRequestError &&
            /the model's context length is only 1024 tokens/.test(error.message),
        );
      },
    );
  }

  test('/tokenize, /detokenize, /version and /metrics through /agent/{i}/', SAFETY, async (t) => {
    const { proxy } = await setUp(t);
    const post = (path: string, body: unknown) =>
      fetch(`${proxy.url}/agent/0${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((response) => response.json() as Promise<Record<string, unknown>>);
    const tokenized = await post('/tokenize', { model: MODEL, prompt: 'Hello there' });
    assert.equal(tokenized.count, 3);
    assert.equal(tokenized.max_model_len, 1024);
    assert.deepEqual(await post('/detokenize', { model: MODEL, tokens: tokenized.tokens }), {
      prompt: 'Hello there',
    });
    const version = (await (await fetch(`${proxy.url}/agent/0/version`)).json()) as {
      version: string;
    };
    assert.match(version.version, /^\d+\.\d+\.\d+/);
    const metrics = await (await fetch(`${proxy.url}/agent/0/metrics`)).text();
    assert.match(metrics, /^vllm:num_requests_running\{/m);
    assert.match(metrics, /^vllm:num_requests_waiting\{/m);
  });
});
