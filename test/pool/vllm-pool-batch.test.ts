/**
 * Batch mode's request budget, as the Python original's `post_batch`: the scaled timeout
 * (`max(timeout, ceil(n / batch_concurrency) × timeout_per_sequence)`, capped), its options and
 * environment variable, the retry of a batch that timed out (without holding a concurrency
 * slot while it waits), and the client against a prompt-list answer written from vLLM's source.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import {
  batchTimeoutMs,
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_TIMEOUT_PER_SEQUENCE_MS,
  resolveVLLMPoolOptions,
  type VLLMPoolOptions,
} from '../../src/pool/vllm-pool-options.js';
import { chatCompletionBody, type SeenRequest, startScriptedServer } from './pool-test-helpers.js';

type After = { after: (fn: () => Promise<void>) => void };

const endpoints = [createEndpoint('compute-001', 8000)];

/**
 * A `/v1/completions` answer to a prompt list as vLLM writes it: one choice per prompt with
 * `index` = position in the list (× n), written from vllm/entrypoints/openai/completion/
 * protocol.py (CompletionResponse, CompletionResponseChoice; read at vllm-project/vllm@d5dba2d7)
 * and completion/serving.py (request_output_to_completion_response: `index=len(choices)`;
 * read at vllm-project/vllm@cc139d8e).
 */
function vllmCompletionsBody(texts: readonly string[]): string {
  return JSON.stringify({
    id: 'cmpl-4b1d0c1e8a2f4e5f9c3a',
    object: 'text_completion',
    created: 1750000000,
    model: 'served',
    choices: texts.map((text, index) => ({
      index,
      text,
      logprobs: null,
      finish_reason: 'length',
      stop_reason: null,
      token_ids: null,
      prompt_logprobs: null,
      prompt_token_ids: null,
    })),
    service_tier: null,
    system_fingerprint: null,
    usage: {
      prompt_tokens: 3 * texts.length,
      total_tokens: 8 * texts.length,
      completion_tokens: 5 * texts.length,
      prompt_tokens_details: null,
    },
    kv_transfer_params: null,
  });
}

function completionsAnswer(request: SeenRequest): [number, string] {
  const prompts = JSON.parse(request.body).prompt as string[];
  return [200, vllmCompletionsBody(prompts.map((prompt) => `answer to ${prompt}`))];
}

/** A VLLMPool (model and context given: no lookup) on one scripted server, both closed after the test. */
async function scriptedPool(
  t: After,
  answer: Parameters<typeof startScriptedServer>[0],
  options: Partial<VLLMPoolOptions> = {},
) {
  const server = await startScriptedServer(answer);
  t.after(() => server.close());
  const pool = new VLLMPool({
    endpoints: [createEndpoint('127.0.0.1', server.port)],
    model: 'served',
    modelMaxContext: 4096,
    ...options,
  });
  t.after(() => pool.close());
  return { server, pool };
}

/** An answer that never comes (the agent is swamped): the call times out. */
const hang = () => new Promise<never>(() => undefined);

describe('batch timeout options', () => {
  test('defaults are the Python ones: 60 s a wave of 256 sequences, no cap', () => {
    const resolved = resolveVLLMPoolOptions({ endpoints }, {});
    assert.equal(resolved.timeoutPerSequenceMs, DEFAULT_TIMEOUT_PER_SEQUENCE_MS);
    assert.equal(resolved.timeoutPerSequenceMs, 60_000);
    assert.equal(resolved.batchConcurrency, DEFAULT_BATCH_CONCURRENCY);
    assert.equal(resolved.batchConcurrency, 256);
    assert.equal(resolved.batchTimeoutCapMs, undefined);
  });

  test('AURORA_SWARM_TIMEOUT_PER_SEQUENCE is in seconds, as in Python; the option wins', () => {
    const env = { AURORA_SWARM_TIMEOUT_PER_SEQUENCE: '2.5' };
    assert.equal(resolveVLLMPoolOptions({ endpoints }, env).timeoutPerSequenceMs, 2500);
    assert.equal(
      resolveVLLMPoolOptions({ endpoints, timeoutPerSequenceMs: 10 }, env).timeoutPerSequenceMs,
      10,
    );
    assert.throws(
      () => resolveVLLMPoolOptions({ endpoints }, { AURORA_SWARM_TIMEOUT_PER_SEQUENCE: 'slow' }),
      {
        code: 'ERR_INVALID_OPTION',
        message:
          'environment variable AURORA_SWARM_TIMEOUT_PER_SEQUENCE: expected a number of seconds >= 0 (e.g. 60 or 2.5), got "slow"',
      },
    );
  });

  test('bad values are refused, quoting the option and the value', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { timeoutPerSequenceMs: -1 },
        'option timeoutPerSequenceMs: expected a finite number >= 0, got -1',
      ],
      [
        { timeoutPerSequenceMs: Number.POSITIVE_INFINITY },
        'option timeoutPerSequenceMs: expected a finite number >= 0, got Infinity',
      ],
      [{ batchConcurrency: 0 }, 'option batchConcurrency: expected a positive integer, got 0'],
      [{ batchConcurrency: 2.5 }, 'option batchConcurrency: expected a positive integer, got 2.5'],
      [{ batchTimeoutCapMs: -5 }, 'option batchTimeoutCapMs: expected a finite number > 0, got -5'],
      [{ batchSize: 0 }, 'option batchSize: expected a positive integer, got 0'],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => resolveVLLMPoolOptions({ endpoints, ...options }, {}), {
        name: 'InvalidOptionError',
        message,
      });
      assert.throws(() => new VLLMPool({ endpoints, ...options }), { message });
    }
  });

  test('max(timeout, ceil(n / batchConcurrency) × timeoutPerSequence), then the cap', () => {
    const settings = { timeoutPerSequenceMs: 60_000, batchConcurrency: 256 };
    const capped = (batchTimeoutCapMs: number | undefined) => ({ ...settings, batchTimeoutCapMs });
    // 100 prompts: one wave, 60 s < the 300 s base.
    assert.equal(batchTimeoutMs(300_000, 100, capped(undefined)), 300_000);
    // 2,000 prompts: 8 waves, 480 s.
    assert.equal(batchTimeoutMs(300_000, 2000, capped(undefined)), 480_000);
    assert.equal(batchTimeoutMs(300_000, 257, capped(undefined)), 300_000);
    assert.equal(batchTimeoutMs(100_000, 257, capped(undefined)), 120_000);
    // The cap lowers the result, even below the base (Python: min(max(...), cap)).
    assert.equal(batchTimeoutMs(300_000, 2000, capped(400_000)), 400_000);
    assert.equal(batchTimeoutMs(300_000, 10, capped(200_000)), 200_000);
    // timeoutPerSequenceMs 0: no scaling.
    assert.equal(
      batchTimeoutMs(300_000, 10_000, {
        ...settings,
        timeoutPerSequenceMs: 0,
        batchTimeoutCapMs: undefined,
      }),
      300_000,
    );
  });
});

describe('batch requests', () => {
  test('the scaled timeout is the request timeout, sent to the proxy as X-Timeout on /agent/{i}/v1/completions', async (t: After) => {
    const server = await startScriptedServer(completionsAnswer);
    t.after(() => server.close());
    await using pool = new VLLMPool({
      endpoints: [createEndpoint('compute-001', 8000), createEndpoint('compute-002', 8000)],
      proxyUrl: server.url,
      proxyToken: 'sekrit',
      model: 'served',
      modelMaxContext: 4096,
      timeoutMs: 1000,
      timeoutPerSequenceMs: 2000,
      batchConcurrency: 2,
    });
    const sub = pool.slice(1);
    const responses = await sub.postBatch(0, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(
      responses.map((response) => [response.success, response.text, response.globalIndex]),
      ['a', 'b', 'c', 'd', 'e'].map((prompt) => [true, `answer to ${prompt}`, 1]),
    );
    assert.equal(server.requests.length, 1);
    const [request] = server.requests;
    assert.equal(request!.url, '/agent/1/v1/completions');
    // 5 prompts, 2 a wave: 3 waves × 2 s = 6 s > the 1 s base.
    assert.equal(request!.headers['x-timeout'], '6');
    assert.equal(request!.headers['proxy-authorization'], 'Bearer sekrit');
    assert.deepEqual(JSON.parse(request!.body), {
      model: 'served',
      prompt: ['a', 'b', 'c', 'd', 'e'],
      max_tokens: 512,
    });
  });

  test('postBatch: an index outside the pool fails every prompt without a request; [] sends nothing', async (t: After) => {
    const { server, pool } = await scriptedPool(t, completionsAnswer);
    const outside = await pool.postBatch(3, ['a', 'b']);
    assert.deepEqual(
      outside.map((response) => response.failureKind),
      ['invalid-index', 'invalid-index'],
    );
    assert.deepEqual(await pool.postBatch(0, []), []);
    assert.equal(server.requests.length, 0);
    await assert.rejects(
      pool.postBatch(0, ['a', 7 as unknown as string]),
      /prompts\[1\]: expected a string, got 7/,
    );
  });

  test('a batch that timed out is sent again after a backoff, up to maxRetries times', async (t: After) => {
    let completions = 0;
    const { server, pool } = await scriptedPool(
      t,
      (request) => {
        completions++;
        // The first two attempts hang (the agent is swamped); the third answers.
        if (completions <= 2) return hang();
        return completionsAnswer(request);
      },
      {
        timeoutMs: 100,
        timeoutPerSequenceMs: 0,
        maxRetries: 2,
        retryDelayMs: 1,
      },
    );
    const responses = await pool.postBatch(0, ['a', 'b']);
    assert.deepEqual(
      responses.map((response) => response.text),
      ['answer to a', 'answer to b'],
    );
    assert.equal(server.requests.length, 3);
  });

  test('after maxRetries timeouts every prompt of the batch is a timeout failure', async (t: After) => {
    // Long enough for each attempt to reach the agent on a loaded machine (it is counted).
    const { server, pool } = await scriptedPool(t, hang, {
      timeoutMs: 300,
      timeoutPerSequenceMs: 0,
      maxRetries: 1,
      retryDelayMs: 1,
    });
    const responses = await pool.postBatch(0, ['a', 'b']);
    assert.deepEqual(
      responses.map((response) => response.failureKind),
      ['timeout', 'timeout'],
    );
    assert.match(responses[0]!.error ?? '', /timeout after 300 ms waiting for agent 0/);
    assert.equal(server.requests.length, 2, 'one retry');
  });

  test('a single chat call that times out is not retried (the agent may still be generating)', async (t: After) => {
    const { server, pool } = await scriptedPool(t, hang, {
      timeoutMs: 300,
      maxRetries: 3,
      retryDelayMs: 1,
    });
    const response = await pool.post(0, 'a');
    assert.equal(response.failureKind, 'timeout');
    assert.equal(server.requests.length, 1);
  });

  test('a batch waiting to be retried holds no concurrency slot: other calls go through meanwhile', {
    timeout: 10_000,
  }, async (t: After) => {
    let firstBatch: (() => void) | undefined;
    const firstBatchSeen = new Promise<void>((resolve) => {
      firstBatch = resolve;
    });
    const { server, pool } = await scriptedPool(
      t,
      (request) => {
        if (request.url === '/v1/completions') {
          firstBatch?.();
          return hang(); // hangs: the batch times out
        }
        return [200, chatCompletionBody({ content: 'chat answer' })];
      },
      {
        concurrency: 1,
        timeoutMs: 100,
        timeoutPerSequenceMs: 0,
        maxRetries: 1,
        // The retry waits an hour: if the slot were held meanwhile, the chat call below
        // could not finish before the test's own timeout.
        retryDelayMs: 3_600_000,
      },
    );
    const controller = new AbortController();
    const batch = pool.postBatch(0, ['a', 'b'], { signal: controller.signal });
    await firstBatchSeen;
    // The only slot is the batch's until it times out; then it sleeps without it.
    const chat = await pool.post(0, 'meanwhile');
    assert.equal(chat.success, true, chat.error);
    assert.equal(chat.text, 'chat answer');
    controller.abort();
    const responses = await batch;
    assert.deepEqual(
      responses.map((response) => response.failureKind),
      ['aborted', 'aborted'],
    );
    assert.deepEqual(
      server.requests.map((request) => request.url),
      ['/v1/completions', '/v1/chat/completions'],
    );
  });

  test('vLLM answers a prompt list with one choice per prompt: each is read, in order', async (t: After) => {
    const { pool } = await scriptedPool(t, completionsAnswer, {
      batch: true,
    });
    const responses = await pool.sendAll(['x', 'y', 'z']);
    assert.deepEqual(
      responses.map((response) => [response.text, response.finishReason]),
      [
        ['answer to x', 'length'],
        ['answer to y', 'length'],
        ['answer to z', 'length'],
      ],
    );
  });
});

describe('a call waiting on the shared /v1/models lookup', () => {
  async function stalledModels(t: After) {
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let seen: (() => void) | undefined;
    const modelsSeen = new Promise<void>((resolve) => {
      seen = resolve;
    });
    const server = await startScriptedServer(async (request) => {
      if (request.url === '/v1/models') {
        seen?.();
        await released;
        return [
          200,
          JSON.stringify({ object: 'list', data: [{ id: 'served', max_model_len: 4096 }] }),
        ];
      }
      if (request.url === '/v1/completions') return completionsAnswer(request);
      if (request.url === '/v1/embeddings') {
        return [200, JSON.stringify({ data: [{ index: 0, embedding: [1, 0] }] })];
      }
      return [200, chatCompletionBody({ content: 'chat answer' })];
    });
    t.after(() => server.close());
    return { server, release: () => release?.(), modelsRequested: () => modelsSeen };
  }

  test('stops waiting as soon as its signal fires; the lookup carries on for the others', {
    timeout: 10_000,
  }, async (t) => {
    const { server, release, modelsRequested } = await stalledModels(t);
    // The lookup's own timeout is 30 s: the test's timeout (10 s) fails if the aborted
    // call waits for it.
    await using pool = new VLLMPool({
      endpoints: [createEndpoint('127.0.0.1', server.port)],
      timeoutMs: 600_000,
    });
    const controller = new AbortController();
    const aborted = pool.post(0, 'never sent', { signal: controller.signal });
    const abortedBatch = pool.postBatch(0, ['x'], { signal: controller.signal });
    const abortedStream = pool.stream(0, 'never streamed', { signal: controller.signal }).response;
    const patient = pool.post(0, 'waits');
    await modelsRequested();
    controller.abort();
    const [chat, [batchResponse], streamed] = await Promise.all([
      aborted,
      abortedBatch,
      abortedStream,
    ]);
    assert.equal(streamed.failureKind, 'aborted');
    assert.equal(chat.failureKind, 'aborted');
    assert.match(chat.error ?? '', /aborted by the caller \(agent 0 at 127\.0\.0\.1:\d+\)/);
    assert.equal(batchResponse!.failureKind, 'aborted');
    release();
    const answer = await patient;
    assert.equal(answer.success, true, answer.error);
    assert.deepEqual(
      server.requests.map((request) => request.url),
      ['/v1/models', '/v1/chat/completions'],
      'one lookup; nothing sent for the aborted calls',
    );
    assert.equal(JSON.parse(server.requests[1]!.body).model, 'served');
  });

  test('the same for an EmbeddingPool', { timeout: 10_000 }, async (t) => {
    const { server, release, modelsRequested } = await stalledModels(t);
    await using pool = new EmbeddingPool({
      endpoints: [createEndpoint('127.0.0.1', server.port)],
      timeoutMs: 600_000,
    });
    const controller = new AbortController();
    const aborted = pool.embedOne(0, 'never sent', { signal: controller.signal });
    const patient = pool.embedOne(0, 'waits');
    await modelsRequested();
    controller.abort();
    assert.equal((await aborted).failureKind, 'aborted');
    release();
    assert.deepEqual((await patient).embedding, [1, 0]);
    assert.deepEqual(
      server.requests.map((request) => request.url),
      ['/v1/models', '/v1/embeddings'],
    );
  });
});
