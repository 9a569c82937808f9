/**
 * The same faults seen from a script: a VLLMPool in proxy mode through the real proxy.
 * Every prompt of a scatter must end with exactly one result: an answer, or a failure
 * whose message names the cause.
 */
import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { scatterGatherStream } from '../../src/patterns/scatter-gather-stream.js';
import type { AgentResponse } from '../../src/pool/types.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { startTestProxy } from '../proxy/proxy-test-helpers.js';
import { startRawUpstream } from './fault-helpers.js';

const SAFETY = { timeout: 30_000 };
const HANGING = 2;

/** What each agent does, and how its failure must read. */
const EXPECTED: Array<{ fault: string; kind?: string; error?: RegExp }> = [
  { fault: 'healthy' },
  { fault: 'refuses', kind: 'connect', error: /cannot connect to 127\.0\.0\.1:\d+/ },
  { fault: 'hangs', kind: 'timeout', error: /timeout/ },
  // The agent resets its socket right after a partial answer; the reset may overtake the
  // bytes (then the proxy saw no answer at all and says so with a 502).
  {
    fault: 'dies mid-answer',
    kind: 'connect',
    error: /broke in the middle of the answer|cannot connect to 127\.0\.0\.1:\d+/,
  },
  { fault: 'malformed JSON', kind: 'bad-response', error: /./ },
  { fault: '500', kind: 'agent-error', error: /HTTP 500 / },
  { fault: '429', kind: 'agent-error', error: /HTTP 429 / },
  { fault: 'drops the connection', kind: 'connect', error: /cannot connect to 127\.0\.0\.1:\d+/ },
  { fault: 'invalid HTTP', kind: 'connect', error: /invalid response from 127\.0\.0\.1:\d+/ },
];

async function setup(t: TestContext) {
  const swarm = await startMockSwarm({ count: 8, behavior: { model: 'mock-model' } });
  t.after(() => swarm.close());
  await swarm.agents[1]!.stop();
  swarm.agents[2]!.setBehavior({ failure: 'hang' });
  swarm.agents[3]!.setBehavior({ failure: 'die-mid-stream', completionTokens: 50 });
  swarm.agents[4]!.setBehavior({ failure: 'malformed' });
  swarm.agents[5]!.setBehavior({ failure: 'status', failureStatus: 500 });
  swarm.agents[6]!.setBehavior({ failure: 'status', failureStatus: 429 });
  swarm.agents[7]!.setBehavior({ failure: 'drop' });
  const invalid = await startRawUpstream(t, (socket) =>
    socket.end('HTTP/1.1 2OO OK\r\ncontent-length: 2\r\n\r\nok'),
  );
  const endpoints = [...swarm.endpoints, ...parseHostfileText(`127.0.0.1\t${invalid.port}`)];
  const proxy = await startTestProxy(t, endpoints, { timeoutSeconds: 300 });
  // The script's hostfile names hosts only the proxy can reach (as on a laptop).
  const laptopEndpoints = parseHostfileText(
    endpoints.map((_, index) => `compute-${index}.invalid\t8000`).join('\n'),
  );
  const pool = new VLLMPool({
    endpoints: laptopEndpoints,
    proxyUrl: proxy.url,
    model: 'mock-model',
    modelMaxContext: 8192,
    timeoutMs: 15_000,
    maxRetries: 1,
    retryDelayMs: 1,
  });
  t.after(() => pool.close());
  return { swarm, proxy, pool };
}

function assertOutcome(response: AgentResponse, agentIndex: number, label: string): void {
  const expected = EXPECTED[agentIndex]!;
  const where = `${label}, agent ${agentIndex} (${expected.fault}): ${JSON.stringify(response)}`;
  assert.equal(response.globalIndex, agentIndex, where);
  if (expected.kind === undefined) {
    assert.equal(response.success, true, where);
    assert.match(response.text, new RegExp(`^Agent ${agentIndex} `), where);
    return;
  }
  assert.equal(response.success, false, where);
  assert.equal(response.failureKind, expected.kind, where);
  assert.match(response.error ?? '', expected.error!, where);
}

describe('faults through the pools', () => {
  test(
    'a scatter over faulty agents ends every prompt with exactly one result naming its cause',
    SAFETY,
    async (t) => {
      const { proxy, pool } = await setup(t);
      // Only the hanging agent's calls get a short timeout; the others must not race it.
      const prompts = Array.from({ length: pool.size * 3 }, (_, index) => ({
        prompt: `prompt ${index}`,
        callOptions: { timeoutMs: index % pool.size === HANGING ? 400 : 15_000 },
      }));
      const seen = new Map<number, AgentResponse>();
      for await (const { index, response } of scatterGatherStream(pool, prompts)) {
        assert.ok(!seen.has(index), `prompt ${index} got a second result`);
        seen.set(index, response);
      }
      assert.equal(seen.size, prompts.length);
      for (const [index, response] of seen) assertOutcome(response, index % pool.size, 'scatter');
      // The proxy is still serving, with nothing left in flight.
      const status = JSON.parse(await (await fetch(`${proxy.url}/status`)).text()) as {
        in_flight: number;
        queued: number;
      };
      assert.deepEqual([status.in_flight, status.queued], [0, 0]);
    },
  );

  test(
    'streamed calls over faulty agents each resolve once, with the same causes',
    SAFETY,
    async (t) => {
      const { pool } = await setup(t);
      const calls = Array.from({ length: pool.size }, (_, index) =>
        pool.stream(index, 'stream me', { timeoutMs: index === HANGING ? 400 : 15_000 }),
      );
      const responses = await Promise.all(calls.map((call) => call.response));
      responses.forEach((response, index) => {
        const expected = EXPECTED[index]!;
        if (expected.fault === 'dies mid-answer') {
          // Streamed, the agent dies after a few events: the stream is cut.
          assert.equal(response.success, false);
          assert.match(
            response.error ?? '',
            /broke in the middle|ended without \[DONE\]|cannot connect to/,
          );
          return;
        }
        if (expected.fault === 'malformed JSON') {
          assert.equal(response.success, false);
          assert.ok(response.error !== undefined && response.error.length > 0);
          return;
        }
        assertOutcome(response, index, 'stream');
      });
    },
  );
});
