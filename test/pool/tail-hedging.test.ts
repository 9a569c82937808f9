/**
 * Adaptive tail hedging of least-loaded fan-outs (tail-hedge.ts): with every prompt in
 * flight at once, a stalled agent's share is hedged to the others once the fan-out knows
 * its median; an even swarm is (almost) never hedged; `hedgeAfterMs: 0`/`false`, round-robin
 * and batch mode never hedge automatically. Counts are taken at the agents.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { scatterGather } from '../../src/patterns/scatter-gather.js';
import {
  TAIL_HEDGE_FACTOR,
  TAIL_HEDGE_FLOOR_MS,
  TAIL_HEDGE_MIN_SAMPLES,
  TailHedge,
} from '../../src/pool/tail-hedge.js';
import type { AgentResponse } from '../../src/pool/types.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { allAbortedAt, KNOWN_MODEL, swarmOf } from './dispatch-test-helpers.js';

type Swarm = Awaited<ReturnType<typeof swarmOf>>;

const prompts = (count: number) => Array.from({ length: count }, (_, index) => `question ${index}`);

const requests = (swarm: Swarm) =>
  swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0);

const hedgedCount = (responses: readonly AgentResponse[]) =>
  responses.filter((response) => response.hedged === true).length;

function assertAnswered(responses: readonly AgentResponse[]): void {
  responses.forEach((response, index) => {
    assert.equal(response.success, true, response.error);
    // The mock echoes the prompt and names itself: input order kept, the answerer named.
    assert.match(response.text, new RegExp(`question ${index}\\b`));
    assert.match(response.text, new RegExp(`^Agent ${response.globalIndex}\\b`));
    assert.equal(response.agentIndex, response.globalIndex);
  });
}

describe('adaptive tail hedging (least-loaded, no hedgeAfterMs)', () => {
  test('3 fast agents + 1 stalled, 300 prompts in flight at once: all answered, the stalled share hedged and aborted', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 20 });
    const stalled = swarm.agents[3]!;
    stalled.setBehavior({ failure: 'hang' });
    // The default concurrency (512) holds all 300 prompts: placed before any answer.
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const responses = await scatterGather(pool, prompts(300), { dispatch: 'least-loaded' });
    assertAnswered(responses);
    const byStalled = responses.filter((response) => response.globalIndex === 3).length;
    assert.ok(byStalled <= 30, `${byStalled} of 300 answered by the stalled agent`);
    assert.ok(stalled.stats.requests > 0, 'least-loaded placed a share on the stalled agent');
    assert.ok(hedgedCount(responses) >= stalled.stats.requests);
    await allAbortedAt(stalled);
    assert.equal(pool.agentHealth()[3]!.inFlight, 0);
    // Each stalled call was hedged once: no prompt went out more than twice.
    assert.ok(requests(swarm) <= 300 + stalled.stats.requests + 5, `${requests(swarm)} requests`);
  });

  test('sendAll least-loaded hedges the same way', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 20 });
    const stalled = swarm.agents[0]!;
    stalled.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const responses = await pool.sendAll(prompts(60), { dispatch: 'least-loaded' });
    assertAnswered(responses);
    assert.ok(responses.every((response) => response.globalIndex !== 0));
    await allAbortedAt(stalled);
  });

  test('a window smaller than the work: the tail is hedged too, all answered', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 5 });
    const stalled = swarm.agents[1]!;
    stalled.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const responses = await scatterGather(pool, prompts(100), {
      dispatch: 'least-loaded',
      window: 8,
    });
    assertAnswered(responses);
    await allAbortedAt(stalled);
    // Only the calls stuck on it when the input ran out could be hedged: at most a window.
    assert.ok(stalled.stats.requests <= 8, `${stalled.stats.requests} calls on the stalled agent`);
  });

  test('equally fast agents: no hedges beyond a handful', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 30 });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const responses = await scatterGather(pool, prompts(300), { dispatch: 'least-loaded' });
    assertAnswered(responses);
    const extra = requests(swarm) - 300;
    assert.ok(extra <= 5, `${extra} hedges in an even swarm`);
    assert.ok(hedgedCount(responses) <= 5);
  });

  for (const off of [0, false] as const) {
    test(`hedgeAfterMs: ${off} turns it off: every prompt sent once, none hedged`, async (t) => {
      const swarm = await swarmOf(t, 4);
      for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 5 });
      // Far slower than 4 × the median and the floor: the adaptive rule would hedge it.
      swarm.agents[2]!.setBehavior({ latencyMs: 4 * TAIL_HEDGE_FLOOR_MS });
      await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
      const responses = await scatterGather(pool, prompts(40), {
        dispatch: 'least-loaded',
        hedgeAfterMs: off,
      });
      assertAnswered(responses);
      assert.equal(hedgedCount(responses), 0);
      assert.equal(requests(swarm), 40);
      assert.ok(responses.some((response) => response.globalIndex === 2));
      const sent = await pool.sendAll(prompts(40), { dispatch: 'least-loaded', hedgeAfterMs: off });
      assert.equal(hedgedCount(sent), 0);
      assert.equal(requests(swarm), 80);
    });
  }

  test('round-robin (the default) never hedges on its own', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ latencyMs: 5 });
    swarm.agents[2]!.setBehavior({ latencyMs: 4 * TAIL_HEDGE_FLOOR_MS });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const responses = await scatterGather(pool, prompts(40));
    assertAnswered(responses);
    assert.equal(hedgedCount(responses), 0);
    assert.equal(requests(swarm), 40);
    assert.equal(swarm.agents[2]!.stats.requests, 10);
  });

  test('batch mode: least-loaded lists are not hedged, and hedgeAfterMs 0 / false is no error', async (t) => {
    const swarm = await swarmOf(t, 4);
    swarm.agents[1]!.setBehavior({ latencyMs: 4 * TAIL_HEDGE_FLOOR_MS });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      batch: true,
      batchSize: 2,
    });
    const responses = await scatterGather(pool, prompts(40), { dispatch: 'least-loaded' });
    assert.ok(responses.every((response) => response.success));
    assert.equal(hedgedCount(responses), 0);
    assert.equal(requests(swarm), 20, 'each list of 2 sent once');
    const off = await pool.sendAll(prompts(4), { dispatch: 'least-loaded', hedgeAfterMs: false });
    assert.ok(off.every((response) => response.success));
    const zero = await scatterGather(pool, prompts(4), { hedgeAfterMs: 0 });
    assert.ok(zero.every((response) => response.success));
    // Each agent's share of 1 prompt is its own list: 4 more requests each time.
    assert.equal(requests(swarm), 28);
  });

  test('a negative hedgeAfterMs is still refused', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    await assert.rejects(
      scatterGather(pool, ['a'], { hedgeAfterMs: -1, dispatch: 'least-loaded' }),
      /hedgeAfterMs must be a finite number of milliseconds > 0, or 0 \/ false for never, got -1/,
    );
    await assert.rejects(
      pool.post(0, 'a', { hedgeAfterMs: true as never }),
      /option hedgeAfterMs: expected a finite number of milliseconds > 0, or 0 \/ false for never, got true/,
    );
  });
});

describe('TailHedge (the delay a fan-out derives)', () => {
  test('unknown until drained, with enough samples and more than half the calls answered', () => {
    const tail = new TailHedge();
    for (let call = 0; call < 30; call++) tail.callStarted();
    for (let call = 0; call < TAIL_HEDGE_MIN_SAMPLES; call++) tail.callEnded(100);
    assert.equal(tail.hedgeAfterMs(), undefined, 'not drained');
    tail.drain();
    // 8 of 30 answered: the running ones count as slower, the median is not known yet.
    assert.equal(tail.hedgeAfterMs(), undefined);
    for (let call = 0; call < 7; call++) tail.callEnded(100);
    const delayMs = tail.hedgeAfterMs() as number;
    assert.ok(
      delayMs >= TAIL_HEDGE_FACTOR * 100 && delayMs < TAIL_HEDGE_FACTOR * 105,
      `${delayMs}`,
    );
  });

  test('the floor holds for fast answers; failed calls leave the count', () => {
    const tail = new TailHedge();
    tail.drain();
    for (let call = 0; call < 20; call++) tail.callStarted();
    for (let call = 0; call < 12; call++) tail.callEnded(undefined);
    assert.equal(tail.hedgeAfterMs(), undefined, 'no answers');
    for (let call = 0; call < 8; call++) tail.callEnded(2);
    assert.equal(tail.hedgeAfterMs(), TAIL_HEDGE_FLOOR_MS);
  });
});
