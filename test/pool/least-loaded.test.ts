import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import {
  KNOWN_MODEL,
  startResettingAgent,
  swarmOf,
  waitForAgentState,
} from './dispatch-test-helpers.js';

function countBy(values: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

describe("dispatch: 'least-loaded'", () => {
  test('200 prompts over 4 live agents and 1 dead: 200 answers, in input order', async (t) => {
    const swarm = await swarmOf(t, 5);
    await swarm.agents[2]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      concurrency: 16,
      retryDelayMs: 1,
    });
    const prompts = Array.from({ length: 200 }, (_, index) => `question ${index}`);
    const responses = await pool.sendAll(prompts, { dispatch: 'least-loaded' });
    assert.equal(responses.length, 200);
    responses.forEach((response, index) => {
      assert.equal(response.success, true, response.error);
      // The mock echoes the prompt: input order is kept whoever answered.
      assert.match(response.text, new RegExp(`question ${index}\\b`));
      assert.notEqual(response.globalIndex, 2);
      assert.equal(response.agentIndex, response.globalIndex);
      assert.match(response.text, new RegExp(`^Agent ${response.globalIndex}\\b`));
    });
    const counts = countBy(responses.map((response) => response.globalIndex));
    assert.deepEqual([...counts.keys()].sort(), [0, 1, 3, 4]);
    assert.equal(pool.agentHealth()[2]!.state, 'open');
  });

  test('the /v1/models lookup of a least-loaded call fails over from a dead agent too', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[0]!.stop();
    const live = swarm.agents[1]!;
    // Fresh pools: each first call looks the model up. Sent to the dead agent alone, the
    // lookup would fail after its retries and the call go out without the model's name.
    for (let round = 0; round < 10; round++) {
      live.resetStats();
      await using pool = new VLLMPool({ endpoints: swarm.endpoints, retryDelayMs: 1 });
      const response = await pool.postLeastLoaded('which model?');
      assert.equal(response.success, true, response.error);
      assert.equal(response.globalIndex, 1);
      const [lookup, chat] = live.requests;
      assert.equal(lookup?.url, '/v1/models');
      assert.equal(JSON.parse(chat?.body ?? '{}').model, 'meta-llama/Llama-3.1-70B-Instruct');
    }
  });

  test('a dead agent costs only its first few attempts: failover, then its breaker', async (t) => {
    const swarm = await swarmOf(t, 3);
    const dead = await startResettingAgent(t);
    await using pool = new VLLMPool({
      endpoints: [...swarm.endpoints, dead.endpoint],
      ...KNOWN_MODEL,
      concurrency: 4,
      retryDelayMs: 1,
    });
    const responses = await pool.sendAll(
      Array.from({ length: 100 }, (_, index) => `p${index}`),
      { dispatch: 'least-loaded' },
    );
    assert.ok(responses.every((response) => response.success && response.globalIndex !== 3));
    // The breaker opens after 3 failures once the others answered; a few more calls may
    // have picked the agent while those were in flight (at most the concurrency).
    assert.ok(dead.connections >= 3 && dead.connections <= 3 + 4, `${dead.connections}`);
    assert.equal(pool.agentHealth()[3]!.state, 'open');
  });

  test('a hung agent keeps only its first share; the others take the rest', async (t) => {
    const swarm = await swarmOf(t, 4);
    const slow = swarm.agents[3]!;
    slow.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL, concurrency: 8 });
    const controller = new AbortController();
    const prompts = Array.from({ length: 100 }, (_, index) => `p${index}`);
    const answered: number[] = [];
    const { scatterGatherStream } = await import('../../src/patterns/scatter-gather-stream.js');
    for await (const { response } of scatterGatherStream(pool, prompts, {
      dispatch: 'least-loaded',
      signal: controller.signal,
    })) {
      if (response.success) answered.push(response.globalIndex);
      if (answered.length === 98) controller.abort();
    }
    // The first 8 calls spread 2 per agent; the hung agent's 2 never end, so it always has
    // more in flight than some fast agent and never gets a third.
    assert.equal(slow.stats.requests, 2);
    assert.equal(answered.length, 98);
    assert.ok(!answered.includes(3));
    assert.equal(pool.agentHealth()[3]!.inFlight, 0, 'the aborted calls are no longer counted');
  });

  test('ties are spread, not always the lowest index', async (t) => {
    const swarm = await swarmOf(t, 4);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const agents: number[] = [];
    for (let call = 0; call < 100; call++) {
      agents.push((await pool.postLeastLoaded('one at a time')).agentIndex);
    }
    assert.deepEqual([...countBy(agents).keys()].sort(), [0, 1, 2, 3]);
  });

  test("a sub-pool's answers name the agent in the sub-pool's numbering and the hostfile's", async (t) => {
    const swarm = await swarmOf(t, 4);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const sub = pool.select([3, 1]);
    const responses = await sub.sendAll(['a', 'b', 'c', 'd'], { dispatch: 'least-loaded' });
    for (const response of responses) {
      assert.ok(response.success);
      assert.equal(response.globalIndex, [3, 1][response.agentIndex]);
    }
  });

  test('counts are shared by the pool tree: a busy agent of the root is skipped by a sub-pool', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const controller = new AbortController();
    const arrived = swarm.agents[0]!.nextRequest();
    const busy = pool.post(0, 'holds agent 0', { signal: controller.signal });
    await arrived;
    const sub = pool.slice(0, 2);
    for (let call = 0; call < 5; call++) {
      assert.equal((await sub.postLeastLoaded('goes to agent 1')).globalIndex, 1);
    }
    controller.abort();
    await busy;
  });

  test('a flapping agent: skipped while open, back after its trial succeeds', async (t) => {
    const swarm = await swarmOf(t, 2);
    const flapping = swarm.agents[1]!;
    await flapping.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      retryDelayMs: 1,
      breaker: { failures: 1, cooldownMs: 30 },
    });
    // Sequential calls: agent 1 is picked about half the time, fails over, and its breaker
    // opens at its first failure after agent 0 answered.
    for (let call = 0; call < 200 && pool.agentHealth()[1]!.timesOpened === 0; call++) {
      assert.equal((await pool.postLeastLoaded('x')).globalIndex, 0);
    }
    assert.equal(pool.agentHealth()[1]!.timesOpened, 1);
    await flapping.start();
    await waitForAgentState(
      () => pool.agentHealth(),
      1,
      (report) => report.state === 'half-open',
    );
    const agents = new Set<number>();
    for (let call = 0; call < 40; call++) {
      agents.add((await pool.postLeastLoaded('x')).globalIndex);
    }
    assert.ok(agents.has(1), 'the agent that came back answers again');
    assert.equal(pool.agentHealth()[1]!.state, 'closed');
  });

  test('every breaker open: fails at once with unavailable and no agent named', async (t) => {
    const dead = await startResettingAgent(t);
    await using pool = new VLLMPool({
      endpoints: [dead.endpoint],
      ...KNOWN_MODEL,
      maxRetries: 0,
      breaker: { failures: 1, cooldownMs: 60_000 },
    });
    // A one-agent pool: nothing else can answer, so its breaker never opens.
    const response = await pool.postLeastLoaded('x');
    assert.equal(response.failureKind, 'connect');
    assert.equal(response.globalIndex, 0);
  });

  test('dispatch is validated', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    await assert.rejects(
      pool.sendAll(['a'], { dispatch: 'random' as never }),
      (error: unknown) =>
        error instanceof InvalidOptionError &&
        /sendAll: option dispatch must be 'round-robin' or 'least-loaded', got "random"/.test(
          error.message,
        ),
    );
  });
});
