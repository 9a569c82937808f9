import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { EmbeddingPool } from '../../src/pool/embedding-pool.js';
import { FAILURE_KINDS } from '../../src/pool/failure-kind.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';
import { isOutageSuspect } from '../../src/run/outage-guard.js';
import {
  KNOWN_MODEL,
  liveAndDeadPool,
  openBreaker,
  openPoolBreaker,
  startResettingAgent,
  swarmOf,
  waitForAgentState,
} from './dispatch-test-helpers.js';
import { startForwardingProxy } from './pool-test-helpers.js';

describe('the circuit breaker of each agent', () => {
  test('round-robin, one dead agent, concurrency 1: its share fails fast after a few attempts', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      concurrency: 1,
      retryDelayMs: 1,
    });
    const prompts = Array.from({ length: 40 }, (_, index) => `prompt ${index}`);
    const responses = await pool.sendAll(prompts);
    const live = responses.filter((response) => response.globalIndex === 0);
    const dead = responses.filter((response) => response.globalIndex === 1);
    assert.equal(live.length, 20);
    assert.ok(live.every((response) => response.success));
    assert.equal(dead.length, 20);
    assert.ok(dead.every((response) => !response.success));
    // The first call or two to the dead agent spend attempts: a breaker opens only once
    // another agent answered during the streak (else the network may be the culprit)…
    const connects = dead.filter((response) => response.failureKind === 'connect');
    assert.ok(connects.length >= 1 && connects.length <= 2, `${connects.length} connect failures`);
    assert.deepEqual(dead.slice(0, connects.length), connects);
    assert.match(
      connects.at(-1)!.error ?? '',
      /ECONNREFUSED\), agent 1; its circuit breaker is now open: calls to it fail at once for 5\.0 s$/,
    );
    // …and every later one fails at once, saying why and when it is tried again.
    for (const response of dead.slice(connects.length)) {
      assert.equal(response.failureKind, 'unavailable');
      assert.equal(response.status, undefined);
      assert.match(
        response.error ?? '',
        /^agent 1 at 127\.0\.0\.1:\d+ is unavailable \(circuit breaker open after \d connection failure\(s\) in a row \(last: cannot connect to 127\.0\.0\.1:\d+ \(ECONNREFUSED\), agent 1/,
      );
      assert.match(response.error ?? '', /; it is tried again in \d+\.\d s$/);
    }
    const [healthy, open] = pool.agentHealth();
    assert.equal(healthy!.state, 'closed');
    assert.equal(open!.state, 'open');
    assert.ok(open!.consecutiveFailures >= 3 && open!.consecutiveFailures <= 5);
    assert.equal(open!.timesOpened, 1);
    assert.ok(open!.retryInMs !== undefined && open!.retryInMs > 0);
    assert.match(open!.lastFailure ?? '', /ECONNREFUSED/);
    assert.equal(open!.inFlight, 0);
  });

  test('an open breaker costs no attempt: the dead agent sees exactly `failures` connections', async (t) => {
    const { dead, pool } = await liveAndDeadPool(t, {
      maxRetries: 0,
      breaker: { failures: 2, cooldownMs: 60_000 },
    });
    const opening = await openPoolBreaker(pool, 0, 1);
    assert.equal(opening.failureKind, 'connect');
    assert.match(
      opening.error ?? '',
      /its circuit breaker is now open: calls to it fail at once for 60 s$/,
    );
    assert.equal(dead.connections, 2, 'two attempts, then the breaker opened');
    for (let call = 0; call < 10; call++) {
      assert.equal((await pool.post(0, 'the others keep answering')).success, true);
      assert.equal((await pool.post(1, 'b')).failureKind, 'unavailable');
    }
    assert.equal(dead.connections, 2, 'no connection while open');
  });

  test("batches too: once the breaker is open a dead agent's batch fails at once, every prompt unavailable", async (t) => {
    const { dead, pool } = await liveAndDeadPool(t, {
      batch: true,
      maxRetries: 0,
      breaker: { failures: 2, cooldownMs: 60_000 },
    });
    await openPoolBreaker(pool, 0, 1);
    assert.equal(dead.connections, 2);
    const refused = await pool.postBatch(1, ['a', 'b', 'c']);
    assert.equal(refused.length, 3);
    for (const response of refused) {
      assert.equal(response.failureKind, 'unavailable');
      assert.equal(response.globalIndex, 1);
      assert.match(
        response.error ?? '',
        /is unavailable \(circuit breaker open after 2 connection/,
      );
    }
    // A batched scatter: the live agent's lists are answered, the dead one's refused at once.
    const responses = await pool.sendAll(['w', 'x', 'y', 'z']);
    assert.deepEqual(
      responses.map((response) => response.success || response.failureKind),
      [true, 'unavailable', true, 'unavailable'],
    );
    assert.equal(dead.connections, 2, 'no connection while open');
  });

  test("a batched scatter opens the breaker on its own: the dead agent's later lists fail fast", async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      batch: true,
      batchSize: 1,
      concurrency: 1,
      retryDelayMs: 1,
      breaker: { failures: 3, cooldownMs: 60_000 },
    });
    const prompts = Array.from({ length: 20 }, (_, index) => `prompt ${index}`);
    const responses = await pool.sendAll(prompts);
    const dead = responses.filter((_, index) => index % 2 === 1);
    assert.ok(responses.filter((_, index) => index % 2 === 0).every((r) => r.success));
    // The first list spends its retries (nothing had answered during its streak yet); a
    // later failure opens the breaker (in the second or the third list: it opens only on
    // evidence that others answer), and every list after that is refused without a
    // connection.
    const kinds = dead.map((response) => response.failureKind);
    const connects = kinds.filter((kind) => kind === 'connect').length;
    assert.ok(connects >= 2 && connects <= 3, `${connects} connect failures: ${kinds.join(',')}`);
    assert.deepEqual(kinds, [
      ...new Array<string>(connects).fill('connect'),
      ...new Array<string>(10 - connects).fill('unavailable'),
    ]);
    // Exactly one of the connect failures is the one that opened the breaker. Which one is
    // not fixed: a list sleeping before its retry when another list's failure opens the
    // breaker ends with its own earlier failure, so the opener may come before it.
    const openers = dead.filter((response) =>
      /its circuit breaker is now open/.test(response.error ?? ''),
    );
    assert.equal(openers.length, 1, dead.map((response) => response.error).join('\n'));
    assert.equal(openers[0]!.failureKind, 'connect');
    assert.equal(pool.agentHealth()[1]!.state, 'open');
  });

  test('half-open: one trial call; an abort frees the trial, a success closes the breaker', async (t) => {
    const swarm = await swarmOf(t, 2);
    const flapping = swarm.agents[1]!;
    await flapping.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      retryDelayMs: 1,
      breaker: { failures: 3, cooldownMs: 50 },
    });
    await openPoolBreaker(pool, 0, 1);
    // The agent comes back; its breaker lets a trial through once the cooldown is over.
    await flapping.start();
    flapping.setBehavior({ failure: 'hang' });
    await waitForAgentState(
      () => pool.agentHealth(),
      1,
      (report) => report.state === 'half-open',
    );
    const controller = new AbortController();
    const arrived = flapping.nextRequest();
    const trial = pool.post(1, 'trial', { signal: controller.signal });
    await arrived;
    // While the trial runs, other calls are refused at once.
    const refused = await pool.post(1, 'second');
    assert.equal(refused.failureKind, 'unavailable');
    assert.match(refused.error ?? '', /a trial call is checking whether it is back$/);
    controller.abort();
    assert.equal((await trial).failureKind, 'aborted');
    // The aborted trial said nothing about the agent: the next call is the trial.
    flapping.setBehavior({ failure: 'none' });
    const closing = await pool.post(1, 'trial again');
    assert.equal(closing.success, true);
    assert.equal(pool.agentHealth()[1]!.state, 'closed');
    assert.equal(pool.agentHealth()[1]!.consecutiveFailures, 0);
    assert.equal((await pool.post(1, 'after')).success, true);
  });

  test('half-open: a failed trial opens the breaker again at once', async (t) => {
    const { dead, pool } = await liveAndDeadPool(t, {
      maxRetries: 0,
      breaker: { failures: 2, cooldownMs: 30 },
    });
    await openPoolBreaker(pool, 0, 1);
    assert.equal(dead.connections, 2);
    await waitForAgentState(
      () => pool.agentHealth(),
      1,
      (report) => report.state === 'half-open',
    );
    const trial = await pool.post(1, 'trial');
    assert.equal(trial.failureKind, 'connect');
    assert.equal(dead.connections, 3, 'one trial connection, no retry on an open breaker');
    const report = pool.agentHealth()[1]!;
    assert.equal(report.state, 'open');
    assert.equal(report.timesOpened, 2);
  });

  test('when no agent answers at all (an outage of the network), no breaker opens', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[0]!.stop();
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      retryDelayMs: 1,
    });
    const responses = await pool.sendAll(Array.from({ length: 6 }, () => 'x'));
    assert.ok(responses.every((response) => response.failureKind === 'connect'));
    assert.ok(responses.every((response) => isOutageSuspect(response)));
    assert.deepEqual(
      pool.agentHealth().map((report) => report.state),
      ['closed', 'closed'],
    );
    assert.ok(pool.agentHealth().every((report) => report.consecutiveFailures >= 12));
  });

  test('an answer to a request sent before the failures began is no evidence', async (t) => {
    const swarm = await swarmOf(t, 2);
    // Agent 0 answers late; agent 1 is dead (the network going down looks like this, with
    // calls sent before it went still answering).
    swarm.agents[0]!.setBehavior({ latencyMs: 50 });
    await swarm.agents[1]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      retryDelayMs: 1,
    });
    const [late, dead] = await Promise.all([pool.post(0, 'sent first'), pool.post(1, 'dead')]);
    assert.equal(late!.success, true);
    assert.equal(dead!.failureKind, 'connect');
    assert.equal((await pool.post(1, 'still dead')).failureKind, 'connect');
    assert.equal(pool.agentHealth()[1]!.state, 'closed');
    assert.equal(pool.agentHealth()[1]!.consecutiveFailures, 8);
    // A request sent now and answered is evidence: the next failure opens the breaker.
    assert.equal((await pool.post(0, 'sent now')).success, true);
    assert.match((await pool.post(1, 'x')).error ?? '', /its circuit breaker is now open/);
  });

  test('shared by the pool tree: a sub-pool skips the agent the root found dead', async (t) => {
    const swarm = await swarmOf(t, 3);
    await swarm.agents[2]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      retryDelayMs: 1,
    });
    await openPoolBreaker(pool, 0, 2);
    const sub = pool.slice(1);
    const fromSub = await sub.post(1, 'x');
    assert.equal(fromSub.failureKind, 'unavailable');
    assert.equal(fromSub.agentIndex, 1);
    assert.equal(fromSub.globalIndex, 2);
    assert.deepEqual(
      sub.agentHealth().map((report) => [report.agentIndex, report.globalIndex, report.state]),
      [
        [0, 1, 'closed'],
        [1, 2, 'open'],
      ],
    );
  });

  test('EmbeddingPool calls go through the same breaker', async (t) => {
    const swarm = await swarmOf(t, 2);
    await swarm.agents[1]!.stop();
    await using pool = new EmbeddingPool({
      endpoints: swarm.endpoints,
      model: 'meta-llama/Llama-3.1-70B-Instruct',
      retryDelayMs: 1,
    });
    const opening = await openBreaker(
      () => pool.agentHealth(),
      () => pool.embedOne(0, 'a'),
      () => pool.embedOne(1, 'b'),
      1,
    );
    assert.equal(opening.failureKind, 'connect');
    const later = await pool.embedOne(1, 'c');
    assert.equal(later.failureKind, 'unavailable');
    assert.equal(pool.agentHealth()[1]!.state, 'open');
  });

  test('breaker: false keeps calling a dead agent with its full retry budget', async (t) => {
    const { dead, pool } = await liveAndDeadPool(t, {
      retryDelayMs: 1,
      maxRetries: 2,
      breaker: false,
    });
    await pool.post(0, 'warm up');
    for (let call = 0; call < 3; call++) {
      assert.equal((await pool.post(1, 'x')).failureKind, 'connect');
    }
    assert.equal(dead.connections, 9);
    assert.equal(pool.agentHealth()[1]!.state, 'closed');
  });

  test('through the proxy: its 502 "cannot connect" counts; an unreachable proxy never does', async (t) => {
    const swarm = await swarmOf(t, 2);
    const deadPort = swarm.agents[1]!.port;
    await swarm.agents[1]!.stop();
    const proxy = await startForwardingProxy(
      swarm.agents.map((agent, index) => ({
        host: `compute-${index}`,
        port: 8000,
        realPort: index === 1 ? deadPort : agent.port,
      })),
    );
    let proxyOpen = true;
    t.after(async () => {
      if (proxyOpen) await proxy.close();
    });
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...KNOWN_MODEL,
      proxyUrl: proxy.url,
      retryDelayMs: 1,
    });
    const dead = await openPoolBreaker(pool, 0, 1);
    assert.equal(dead.failureKind, 'connect');
    assert.match(dead.error ?? '', /^cannot connect to compute-1:8000 \(HTTP 502 from agent 1/);
    assert.equal((await pool.post(1, 'again')).failureKind, 'unavailable');
    // The proxy goes away: a pool-wide outage, not the agents' fault.
    await proxy.close();
    proxyOpen = false;
    for (let call = 0; call < 4; call++) {
      const response = await pool.post(0, 'proxy gone');
      assert.equal(response.failureKind, 'proxy-unreachable');
      assert.ok(isOutageSuspect(response));
    }
    const agent0 = pool.agentHealth()[0]!;
    assert.equal(agent0.state, 'closed');
    assert.equal(agent0.consecutiveFailures, 0);
  });

  test('at most half of the breakers open at once: most agents failing together is not their fault', async (t) => {
    const swarm = await swarmOf(t, 1);
    const dead = [
      await startResettingAgent(t),
      await startResettingAgent(t),
      await startResettingAgent(t),
    ];
    await using pool = new VLLMPool({
      endpoints: [swarm.endpoints[0]!, ...dead.map((agent) => agent.endpoint)],
      ...KNOWN_MODEL,
      maxRetries: 0,
      breaker: { failures: 1, cooldownMs: 60_000 },
    });
    for (let round = 0; round < 3; round++) {
      assert.equal((await pool.post(0, 'live')).success, true);
      for (const index of [1, 2, 3]) await pool.post(index, 'dead');
    }
    const states = pool.agentHealth().map((report) => report.state);
    assert.deepEqual(states, ['closed', 'open', 'open', 'closed']);
    assert.equal((await pool.post(3, 'still tried')).failureKind, 'connect');
    assert.equal(dead[2]!.connections, 4);
  });

  test('unavailable is in the one vocabulary, worth a retry, and never an outage suspect', () => {
    assert.equal(FAILURE_KINDS.unavailable.retryHelps, true);
    assert.match(FAILURE_KINDS.unavailable.meaning, /circuit breaker/);
    assert.equal(
      isOutageSuspect({
        success: false,
        text: '',
        failureKind: 'unavailable',
        agentIndex: 1,
        globalIndex: 1,
      }),
      false,
    );
  });

  test('breaker options are validated', () => {
    const endpoints = [{ host: 'a', port: 1 }] as never;
    for (const breaker of [{ failures: 0 }, { cooldownMs: -1 }, 'on', null, []] as never[]) {
      assert.throws(() => new VLLMPool({ endpoints, breaker }), InvalidOptionError);
    }
    assert.throws(
      () => new VLLMPool({ endpoints, breaker: { failures: 1.5 } }),
      /option breaker\.failures: expected a positive integer, got 1\.5/,
    );
  });
});
