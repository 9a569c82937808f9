import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { resolveVLLMPoolOptions, sizeMaxTokens } from '../../src/pool/vllm-pool-options.js';
import { chatCompletionBody, modelsBody, startScriptedServer } from './pool-test-helpers.js';

type After = { after: (fn: () => Promise<void>) => void };

async function swarmOf(t: After, count: number, maxModelLen = 8192) {
  const swarm = await startMockSwarm({ count, behavior: { model: 'mock-model', maxModelLen } });
  t.after(() => swarm.close());
  return swarm;
}

function chatBodies(swarm: Awaited<ReturnType<typeof swarmOf>>) {
  return swarm.agents
    .flatMap((agent) => agent.requests)
    .filter((request) => request.url === '/v1/chat/completions')
    .map((request) => JSON.parse(request.body) as Record<string, unknown>);
}

describe('VLLMPool requests', () => {
  test('chat completions with the prompt as one user message, model and extraBody merged', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      extraBody: { temperature: 0.2, top_p: 0.9 },
    });
    const response = await pool.post(0, 'Hello!', { extraBody: { temperature: 0.7, seed: 1 } });
    assert.equal(response.success, true);
    assert.equal(response.finishReason, 'stop');
    assert.ok(response.usage && response.usage.completionTokens > 0);
    const [body] = chatBodies(swarm);
    assert.deepEqual(body, {
      model: 'mock-model',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 512,
      temperature: 0.7,
      top_p: 0.9,
      seed: 1,
    });
  });

  test('a stream stays a stream, with usage, whatever extraBody says', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      extraBody: { stream: false, temperature: 0.2 },
    });
    const call = pool.stream(0, 'Hello!', { extraBody: { stream_options: null, seed: 3 } });
    assert.equal((await call.response).success, true);
    const [body] = chatBodies(swarm);
    assert.deepEqual(body, {
      model: 'mock-model',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 512,
      stream: true,
      temperature: 0.2,
      seed: 3,
      stream_options: { include_usage: true },
    });
  });

  test('without a model option, the served model is discovered from /v1/models', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints });
    assert.equal(pool.model, undefined);
    await pool.sendAll(['a', 'b']);
    assert.equal(pool.model, 'mock-model');
    assert.ok(chatBodies(swarm).every((body) => body.model === 'mock-model'));
  });

  test('max_model_len is fetched once, shared by concurrent first calls and sub-pools', async (t) => {
    const swarm = await swarmOf(t, 3, 4096);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      maxTokens: 1000,
    });
    const longPrompt = 'x'.repeat(4 * 3000); // 3000 estimated tokens
    await Promise.all([pool.sendAll(['short', longPrompt, 'short']), pool.slice(1).post(0, 'y')]);
    await pool.select([2]).post(0, 'later');
    const modelLookups = swarm.agents
      .flatMap((agent) => agent.requests)
      .filter((request) => request.url === '/v1/models');
    assert.equal(modelLookups.length, 1);
    const byPrompt = new Map(
      chatBodies(swarm).map((body) => [
        (body.messages as Array<{ content: string }>)[0]!.content,
        body.max_tokens,
      ]),
    );
    assert.equal(byPrompt.get('short'), 1000, 'min(maxTokens, room)');
    // 4096 - 3000 - 512 = 584 < 1000
    assert.equal(byPrompt.get(longPrompt), 584);
  });

  test('sizing never goes below 128; a prompt too long for even that is a context-overflow failure', async (t) => {
    const swarm = await swarmOf(t, 1, 2048);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, model: 'mock-model' });
    const response = await pool.post(0, 'z'.repeat(4 * 2000));
    assert.equal(response.success, false);
    assert.equal(response.failureKind, 'context-overflow');
    assert.match(
      response.error ?? '',
      /^You passed 2000 input tokens and requested 128 output tokens\. However, the model's context length is only 2048 tokens/,
    );
    assert.equal(chatBodies(swarm)[0]!.max_tokens, 128);
  });

  test('a per-call maxTokens replaces the pool budget, still sized to fit', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    await pool.post(0, 'reduce these', { maxTokens: pool.maxTokensAggregation });
    await pool.post(0, 'huge', { maxTokens: 100_000 });
    assert.deepEqual(
      chatBodies(swarm).map((body) => body.max_tokens),
      [1024, 8192 - 1 - 512],
    );
    assert.equal(
      swarm.agents[0]!.requests.filter((request) => request.url === '/v1/models').length,
      0,
      'configured context: no lookup',
    );
  });

  test('when /v1/models fails, the fallback context length is used and the call still goes out', async (t) => {
    const server = await startScriptedServer((request) =>
      request.url === '/v1/models'
        ? [500, '{"object":"error","message":"boom"}']
        : [200, chatCompletionBody({ content: 'ok' })],
    );
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port: server.port, tags: {}, url: server.url }],
      model: 'm',
      maxRetries: 0,
    });
    const response = await pool.post(0, 'x'.repeat(4 * 40_000));
    assert.equal(response.success, true);
    const chat = server.requests.find((request) => request.url === '/v1/chat/completions')!;
    // DEFAULT_MODEL_MAX_CONTEXT 32768 - 40000 - 512 < 128
    assert.equal(JSON.parse(chat.body).max_tokens, 128);
  });

  test('empty content falls back to reasoning_content', async (t) => {
    const server = await startScriptedServer((request) => {
      if (request.url === '/v1/models') return [200, modelsBody('m', 8192)];
      const prompt = JSON.parse(request.body).messages[0].content as string;
      return [
        200,
        chatCompletionBody(
          prompt === 'null'
            ? { content: null, reasoning_content: 'thought A' }
            : { content: '', reasoning_content: 'thought B' },
        ),
      ];
    });
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port: server.port, tags: {}, url: server.url }],
      model: 'm',
    });
    const [first, second] = await pool.sendAll(['null', 'empty']);
    assert.equal(first!.text, 'thought A');
    assert.equal(second!.text, 'thought B');
  });
});

describe('VLLMPool options and environment', () => {
  test('AURORA_SWARM_MAX_TOKENS, _AGGREGATION and _MODEL_MAX_CONTEXT are fallbacks; options win', () => {
    const endpoints = [{ host: 'a', port: 1, tags: {}, url: 'http://a:1' }];
    const env = { AURORA_SWARM_MAX_TOKENS: '300', AURORA_SWARM_MODEL_MAX_CONTEXT: '16384' };
    const fromEnv = resolveVLLMPoolOptions({ endpoints }, env);
    assert.equal(fromEnv.maxTokens, 300);
    assert.equal(fromEnv.maxTokensAggregation, 600);
    assert.equal(fromEnv.modelMaxContext, 16384);
    const explicit = resolveVLLMPoolOptions(
      { endpoints, maxTokens: 100, modelMaxContext: 999 },
      { ...env, AURORA_SWARM_MAX_TOKENS_AGGREGATION: '7000' },
    );
    assert.equal(explicit.maxTokens, 100);
    assert.equal(explicit.maxTokensAggregation, 7000);
    assert.equal(explicit.modelMaxContext, 999);
    const defaults = resolveVLLMPoolOptions({ endpoints }, {});
    assert.deepEqual(
      [
        defaults.maxTokens,
        defaults.maxTokensAggregation,
        defaults.modelMaxContext,
        defaults.pool.timeoutMs,
      ],
      [512, 1024, undefined, 300_000],
    );
    assert.throws(
      () => resolveVLLMPoolOptions({ endpoints }, { AURORA_SWARM_MAX_TOKENS: 'lots' }),
      {
        code: 'ERR_INVALID_OPTION',
        message:
          'environment variable AURORA_SWARM_MAX_TOKENS: expected a positive integer, got "lots"',
      },
    );
    assert.throws(
      () => resolveVLLMPoolOptions({ endpoints, model: 5 as unknown as string }, {}),
      /option model: expected a non-empty string/,
    );
    assert.throws(
      () => resolveVLLMPoolOptions({ endpoints, batch: 'yes' as unknown as boolean }, {}),
      /option batch: expected a boolean, got "yes"/,
    );
  });

  test('sizeMaxTokens follows min(maxTokens, max(128, context - ceil(chars/4) - buffer))', () => {
    assert.equal(sizeMaxTokens(512, 8192, 100, 512), 512);
    assert.equal(sizeMaxTokens(512, 8192, 4 * 7300, 512), 380);
    assert.equal(sizeMaxTokens(512, 8192, 4 * 8000, 512), 128);
    assert.equal(sizeMaxTokens(512, 1000, 1, 0), 512);
    assert.equal(sizeMaxTokens(2000, 1000, 3, 0), 999);
  });
});

describe('VLLMPool batch mode', () => {
  test('each agent share is one /v1/completions request; answers map back by choice index', async (t) => {
    const swarm = await swarmOf(t, 3);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const prompts = Array.from({ length: 8 }, (_, index) => `batched ${index}`);
    const responses = await pool.sendAllBatched(prompts);
    responses.forEach((response, index) => {
      assert.equal(response.success, true, response.error);
      assert.equal(response.agentIndex, index % 3);
      assert.match(response.text, new RegExp(`^Agent ${index % 3} .*"batched ${index}"`));
    });
    const batches = swarm.agents.map((agent) =>
      agent.requests
        .filter((request) => request.url === '/v1/completions')
        .map((request) => JSON.parse(request.body).prompt),
    );
    assert.deepEqual(batches, [
      [['batched 0', 'batched 3', 'batched 6']],
      [['batched 1', 'batched 4', 'batched 7']],
      [['batched 2', 'batched 5']],
    ]);
  });

  test('choices answered out of order are mapped by index; a missing choice fails only its prompt', async (t) => {
    const server = await startScriptedServer(() => [
      200,
      JSON.stringify({
        choices: [
          { index: 2, text: 'third', finish_reason: 'stop' },
          { index: 0, text: 'first', finish_reason: 'length' },
        ],
      }),
    ]);
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [{ host: '127.0.0.1', port: server.port, tags: {}, url: server.url }],
      model: 'm',
      modelMaxContext: 8192,
      batch: true,
    });
    const [first, second, third] = await pool.sendAll(['p0', 'p1', 'p2']);
    assert.equal(server.requests.length, 1);
    assert.equal(first!.text, 'first');
    assert.equal(first!.finishReason, 'length');
    assert.equal(third!.text, 'third');
    assert.equal(second!.success, false);
    assert.equal(second!.failureKind, 'bad-response');
    assert.match(second!.error ?? '', /without a choice for prompt 1 of 3/);
  });

  test('batchSize splits a share; a failed batch fails each of its prompts', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[1]!.setBehavior({ failure: 'status', failureStatus: 400 });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
      batchSize: 2,
    });
    const responses = await pool.sendAllBatched(['a', 'b', 'c', 'd', 'e', 'f']);
    assert.equal(swarm.agents[0]!.requests.length, 2, 'three prompts in batches of two');
    assert.deepEqual(
      responses.map((response) => response.success),
      [true, false, true, false, true, false],
    );
    assert.match(responses[1]!.error ?? '', /injected failure on agent 1/);
  });
});

describe('VLLMPool streaming', () => {
  test('deltas arrive as they are generated and add up to the full response', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const call = pool.stream(1, 'stream this');
    const deltas: string[] = [];
    for await (const delta of call) deltas.push(delta);
    const response = await call.response;
    assert.equal(response.success, true);
    assert.ok(deltas.length > 3);
    assert.equal(deltas.join(''), response.text);
    assert.match(response.text, /^Agent 1 .*"stream this"/);
    assert.equal(response.finishReason, 'stop');
    assert.ok(response.usage);
    const body = JSON.parse(swarm.agents[1]!.requests[0]!.body);
    assert.equal(body.stream, true);
  });

  test('breaking out of the loop cancels the generation at the agent', async (t) => {
    const swarm = await swarmOf(t, 1);
    swarm.agents[0]!.setBehavior({ tokenIntervalMs: 20, completionTokens: 1000 });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const aborted = swarm.agents[0]!.nextAbort();
    const call = pool.stream(0, 'long story', { maxTokens: 1000 });
    for await (const _delta of call) break;
    await aborted;
    const response = await call.response;
    assert.equal(response.failureKind, 'aborted');
    assert.match(response.error ?? '', /stream closed by the consumer/);
  });

  test('failures end the stream quietly and show in response', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[0]!.setBehavior({ failure: 'die-mid-stream', completionTokens: 20 });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      model: 'mock-model',
      modelMaxContext: 8192,
    });
    const broken = await pool.stream(0, 'x').response;
    assert.equal(broken.failureKind, 'connect');
    assert.match(broken.error ?? '', /broke in the middle of the answer/);
    const invalid = await pool.stream(7, 'x').response;
    assert.equal(invalid.failureKind, 'invalid-index');
    swarm.agents[1]!.setBehavior({ failure: 'hang-body' });
    const silent = await pool.stream(1, 'x', { timeoutMs: 100 }).response;
    assert.equal(silent.failureKind, 'timeout');
    assert.match(silent.error ?? '', /^timeout after 100 ms/);
  });
});
