import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { KNOWN_MODEL, openPoolBreaker, swarmOf } from './dispatch-test-helpers.js';

describe('hedged calls (hedgeAfterMs)', () => {
  test('a stalled agent: the hedge answers, the stalled call is aborted at the agent', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const aborted = swarm.agents[0]!.nextAbort();
    const response = await pool.post(0, 'who answers?', { hedgeAfterMs: 40 });
    assert.equal(response.success, true);
    assert.equal(response.hedged, true);
    assert.equal(response.agentIndex, 1);
    assert.equal(response.globalIndex, 1);
    assert.match(response.text, /^Agent 1\b/);
    const seen = await aborted;
    assert.match(seen.body, /who answers\?/);
    assert.equal(swarm.agents[0]!.stats.aborted, 1);
    assert.equal(pool.agentHealth()[0]!.inFlight, 0);
    assert.equal(pool.agentHealth()[0]!.state, 'closed', 'an abort says nothing against the agent');
  });

  test('an answer that starts in time is not hedged', async (t) => {
    const swarm = await swarmOf(t, 2);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const response = await pool.post(0, 'quick', { hedgeAfterMs: 60_000 });
    assert.equal(response.success, true);
    assert.equal(response.hedged, undefined);
    assert.equal(swarm.agents[1]!.stats.requests, 0);
  });

  test('at most one hedge by default; maxHedges allows more', async (t) => {
    const swarm = await swarmOf(t, 4);
    for (const agent of swarm.agents) agent.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const one = await pool.post(0, 'x', { hedgeAfterMs: 10, timeoutMs: 400 });
    assert.equal(one.failureKind, 'timeout');
    assert.equal(one.hedged, true);
    assert.equal(one.agentIndex, 0, 'when every call fails, the first one is reported');
    const requests = () => swarm.agents.reduce((sum, agent) => sum + agent.stats.requests, 0);
    assert.equal(requests(), 2);
    swarm.resetStats();
    const three = await pool.post(0, 'y', { hedgeAfterMs: 10, maxHedges: 2, timeoutMs: 400 });
    assert.equal(three.hedged, true);
    assert.equal(requests(), 3);
  });

  test('when the first agent wins after all, the hedge is the one aborted', async (t) => {
    const swarm = await swarmOf(t, 2);
    // Agent 0 answers, but only after the hedge went out (its timer starts after ours).
    swarm.agents[0]!.setBehavior({ latencyMs: 200 });
    swarm.agents[1]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const hedgeAborted = swarm.agents[1]!.nextAbort();
    const response = await pool.post(0, 'slow but first', { hedgeAfterMs: 10 });
    assert.equal(response.success, true);
    assert.equal(response.globalIndex, 0);
    assert.equal(response.hedged, true);
    const seen = await hedgeAborted;
    assert.match(seen.body, /slow but first/);
    assert.equal(swarm.agents[1]!.stats.aborted, 1);
  });

  test('a streamed call is hedged before its response starts, never after', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const aborted = swarm.agents[0]!.nextAbort();
    const call = pool.stream(0, 'stream me', { hedgeAfterMs: 30 });
    let text = '';
    for await (const delta of call) text += delta;
    const response = await call.response;
    assert.equal(response.success, true);
    assert.equal(response.hedged, true);
    assert.equal(response.agentIndex, 1);
    assert.equal(response.text, text);
    await aborted;
    // A stream that started (headers, then a token every 100 ms for 2 s) outlives its
    // hedgeAfterMs and is never duplicated.
    swarm.resetStats();
    swarm.agents[0]!.setBehavior({ failure: 'none', completionTokens: 20, tokenIntervalMs: 100 });
    const slow = pool.stream(0, 'a slow stream', { hedgeAfterMs: 1000 });
    const slowResponse = await slow.response;
    assert.equal(slowResponse.success, true);
    assert.equal(slowResponse.hedged, undefined);
    assert.equal(swarm.agents[1]!.stats.requests, 0);
  });

  test('hedges stay within the concurrency limit', async (t) => {
    const swarm = await swarmOf(t, 2);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL, concurrency: 1 });
    // The stalled call holds the only slot; the hedge waits for it (its timeout), then goes.
    const response = await pool.post(0, 'x', { hedgeAfterMs: 10, timeoutMs: 300 });
    assert.equal(response.success, true);
    assert.equal(response.hedged, true);
    assert.equal(response.globalIndex, 1);
    assert.equal(swarm.inFlight.peakInFlight, 1);
  });

  test('a hedge never goes to an agent whose breaker is open', async (t) => {
    const swarm = await swarmOf(t, 3);
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      maxRetries: 0,
      breaker: { failures: 1, cooldownMs: 60_000 },
    });
    await openPoolBreaker(pool, 0, 1);
    swarm.agents[0]!.setBehavior({ failure: 'hang' });
    const response = await pool.post(0, 'x', { hedgeAfterMs: 10 });
    assert.equal(response.success, true);
    assert.equal(response.globalIndex, 2);
  });

  test("the caller's abort stops every call of the race", async (t) => {
    const swarm = await swarmOf(t, 2);
    for (const agent of swarm.agents) agent.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    const controller = new AbortController();
    const hedgeArrived = swarm.agents[1]!.nextRequest();
    const aborts = Promise.all(swarm.agents.map((agent) => agent.nextAbort()));
    const call = pool.post(0, 'x', { hedgeAfterMs: 10, signal: controller.signal });
    await hedgeArrived;
    controller.abort();
    const response = await call;
    assert.equal(response.failureKind, 'aborted');
    await aborts;
  });

  test('least-loaded calls are hedged too', async (t) => {
    const swarm = await swarmOf(t, 2);
    for (const agent of swarm.agents) agent.setBehavior({ failure: 'hang' });
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    // A call held by agent 1 makes agent 0 the least loaded; agent 1 then answers new calls.
    const blocker = new AbortController();
    const blockerArrived = swarm.agents[1]!.nextRequest();
    const blocking = pool.post(1, 'blocker', { signal: blocker.signal });
    await blockerArrived;
    swarm.agents[1]!.setBehavior({ failure: 'none' });
    const primaryAborted = swarm.agents[0]!.nextAbort();
    const response = await pool.postLeastLoaded('x', { hedgeAfterMs: 10 });
    assert.equal(response.success, true);
    assert.equal(response.hedged, true);
    assert.equal(response.globalIndex, 1);
    await primaryAborted;
    blocker.abort();
    await blocking;
  });

  test('hedgeAfterMs and maxHedges are validated', async (t) => {
    const swarm = await swarmOf(t, 1);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...KNOWN_MODEL });
    await assert.rejects(pool.post(0, 'x', { hedgeAfterMs: -1 }), InvalidOptionError);
    await assert.rejects(pool.post(0, 'x', { hedgeAfterMs: Number.NaN }), InvalidOptionError);
    // 0 and false mean never.
    assert.equal((await pool.post(0, 'x', { hedgeAfterMs: 0 })).hedged, undefined);
    assert.equal((await pool.post(0, 'x', { hedgeAfterMs: false })).hedged, undefined);
    await assert.rejects(pool.post(0, 'x', { maxHedges: 0 }), InvalidOptionError);
  });
});
