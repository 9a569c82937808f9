/**
 * The client against vLLM's own answers (test/fixtures/vllm/, each cited to vLLM's files
 * at a named version), served by a tiny server of this test — not by the simulated
 * agents — so a client bug cannot hide behind the same bug in the mock. Every way of
 * calling (post, stream, batch, embeddings) must read each answer the same way.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { loadVllmFixtures, sseText, type VllmFixture } from '../fixtures/vllm-fixtures.js';

/** Answers `/v1/models`, and every other request with `answer`. */
async function fixtureServer(
  t: { after: (fn: () => unknown) => void },
  answer: (path: string, response: ServerResponse) => void,
) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url === '/v1/models') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ object: 'list', data: [{ id: 'served', max_model_len: 4096 }] }),
        );
        return;
      }
      answer(request.url ?? '/', response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return createEndpoint('127.0.0.1', (server.address() as AddressInfo).port);
}

function sendFixture(fixture: VllmFixture, response: ServerResponse): void {
  const answer = fixture.response;
  if ('events' in answer) {
    response.writeHead(answer.status, { 'content-type': 'text/event-stream' });
    response.end(sseText(answer.events));
    return;
  }
  response.writeHead(answer.status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(answer.body));
}

/** The streamed form of a whole chat answer: role chunk, its message as one delta, finish. */
function streamOf(body: {
  choices: Array<{ message: Record<string, unknown>; finish_reason: string }>;
}) {
  const { message, finish_reason } = body.choices[0]!;
  const delta = Object.fromEntries(
    Object.entries(message).filter(([key, value]) => key !== 'role' && typeof value === 'string'),
  );
  return sseText([
    { choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { choices: [{ index: 0, delta, finish_reason: null }] },
    { choices: [{ index: 0, delta: { content: '' }, finish_reason, stop_reason: null }] },
    '[DONE]',
  ]);
}

const POOL = { model: 'served', modelMaxContext: 4096, maxRetries: 0, proxyUrl: null } as const;

describe('the client reads every vLLM answer it will meet (fixtures, independent server)', () => {
  const fixtures = loadVllmFixtures();

  test('there are fixtures for every vLLM generation the client must read', () => {
    const names = fixtures.map((fixture) => fixture.name);
    for (const expected of [
      'context-overflow-current',
      'context-overflow-0.10.x',
      'context-overflow-legacy',
      'stream-error-current',
      'reasoning-only-current',
      'reasoning-content-legacy',
    ]) {
      assert.ok(names.includes(expected), expected);
    }
    for (const fixture of fixtures) {
      assert.ok(fixture.vllm.source.length > 0, `${fixture.name} cites vLLM's files`);
      assert.ok(fixture.vllm.versions !== '', `${fixture.name} names the versions`);
    }
  });

  for (const fixture of fixtures) {
    const expected = fixture.client;
    if ('failureKind' in expected) {
      test(`${fixture.name}: ${expected.failureKind} with the agent's own message, whatever the call`, async (t) => {
        const endpoint = await fixtureServer(t, (_path, response) =>
          sendFixture(fixture, response),
        );
        await using pool = new VLLMPool({ endpoints: [endpoint], ...POOL });
        const check = (
          response: { success: boolean; failureKind?: string; error?: string },
          how: string,
        ) => {
          assert.equal(response.success, false, how);
          assert.equal(response.failureKind, expected.failureKind, `${how}: ${response.error}`);
          assert.ok(response.error?.includes(expected.errorIncludes), `${how}: ${response.error}`);
        };
        check(await pool.stream(0, 'hi').response, 'stream');
        if ('events' in fixture.response) return;
        check(await pool.post(0, 'hi'), 'post');
        await using batch = new VLLMPool({ endpoints: [endpoint], ...POOL, batch: true });
        for (const response of await batch.sendAll(['a', 'b'])) check(response, 'batch');
        await using embeddings = new EmbeddingPool({
          endpoints: [endpoint],
          model: 'served',
          maxRetries: 0,
          proxyUrl: null,
        });
        check(await embeddings.embedOne(0, 'hi'), 'embedOne');
      });
    } else {
      test(`${fixture.name}: the text is read, whole and streamed`, async (t) => {
        const body = (fixture.response as { body: Parameters<typeof streamOf>[0] }).body;
        const endpoint = await fixtureServer(t, (_path, response) => {
          if (_path === '/v1/chat/completions') {
            // Whole answers for post, the streamed form for stream (the pool sets stream: true).
            sendFixture(fixture, response);
          }
        });
        await using pool = new VLLMPool({ endpoints: [endpoint], ...POOL });
        const whole = await pool.post(0, 'Why?');
        assert.equal(whole.success, true, whole.error);
        assert.equal(whole.text, expected.text);
        assert.equal(whole.finishReason, expected.finishReason);
        const streamedEndpoint = await fixtureServer(t, (_path, response) => {
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          response.end(streamOf(body));
        });
        await using streaming = new VLLMPool({ endpoints: [streamedEndpoint], ...POOL });
        const streamed = await streaming.stream(0, 'Why?').response;
        assert.equal(streamed.success, true, streamed.error);
        assert.equal(streamed.text, expected.text);
        assert.equal(streamed.finishReason, expected.finishReason);
      });
    }
  }
});
