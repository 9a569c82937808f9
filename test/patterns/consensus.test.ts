import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import { broadcast } from '../../src/patterns/broadcast.js';
import { consensus } from '../../src/patterns/consensus.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

type After = { after: (fn: () => Promise<void>) => void };

const known = { model: 'meta-llama/Llama-3.1-70B-Instruct', modelMaxContext: 8192 };

/** Agents 0-4 answer "Yes" at once; agents 5-8 would answer " no " but only much later. */
async function yesNoSwarm(t: After) {
  const swarm = await startMockSwarm({
    count: 9,
    perAgent: (index) =>
      index < 5 ? { reply: () => 'Yes' } : { reply: () => ' no ', latencyMs: 600_000 },
  });
  t.after(() => swarm.close());
  return swarm;
}

describe('consensus', () => {
  test('5 fast "Yes" and 4 slow "No": "yes" at once, the 4 slow calls aborted at the agents', async (t) => {
    const swarm = await yesNoSwarm(t);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const slowAborts = Promise.all(swarm.agents.slice(5).map((agent) => agent.nextAbort()));
    const result = await consensus(pool, 'Is the sky blue?');
    assert.equal(result.winner, 'yes');
    assert.equal(result.winnerText, 'Yes');
    assert.equal(result.confidence, 1);
    assert.deepEqual(result.votes, [{ answer: 'Yes', normalized: 'yes', count: 5 }]);
    assert.equal(result.stoppedEarly, true);
    assert.equal(result.aborted, 4);
    assert.equal(result.responses.length, 9);
    result.responses.slice(5).forEach((response, offset) => {
      assert.equal(response.failureKind, 'aborted');
      assert.equal(response.agentIndex, 5 + offset);
    });
    await slowAborts;
    for (const agent of swarm.agents.slice(5)) assert.equal(agent.stats.aborted, 1);
  });

  test('a close vote is not stopped: every vote counts, majorityVote decides', async (t) => {
    const swarm = await startMockSwarm({
      count: 5,
      perAgent: (index) => ({ reply: () => (index % 2 === 0 ? 'Red' : 'blue') }),
    });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, concurrency: 1 });
    const result = await consensus(pool, 'Colour?');
    // Votes in order: red, blue, red, blue, red — never decided before the last.
    assert.equal(result.stoppedEarly, false);
    assert.equal(result.aborted, 0);
    assert.equal(result.winner, 'red');
    assert.equal(result.confidence, 3 / 5);
    assert.deepEqual(
      result.votes.map((vote) => [vote.normalized, vote.count]),
      [
        ['red', 3],
        ['blue', 2],
      ],
    );
  });

  test('one vote at a time stops as soon as the rest cannot change the winner', async (t) => {
    const swarm = await yesNoSwarm(t);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, concurrency: 1 });
    const result = await consensus(pool, 'x');
    // After 5 "Yes" the 4 votes left cannot win: none of them is sent.
    assert.equal(result.stoppedEarly, true);
    assert.equal(result.aborted, 4);
    assert.ok(swarm.agents.slice(5).every((agent) => agent.stats.requests === 0));
    assert.ok(result.responses.slice(5).every((response) => response.failureKind === 'aborted'));
  });

  test('quorum: enough votes for one answer stop the vote; minVotes holds it back', async (t) => {
    const swarm = await yesNoSwarm(t);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, concurrency: 1 });
    const quick = await consensus(pool, 'x', { quorum: 0.3 });
    assert.equal(quick.winner, 'yes');
    assert.equal(quick.votes[0]!.count, 3);
    assert.equal(quick.aborted, 6);
    const held = await consensus(pool, 'x', { quorum: 0.3, minVotes: 4 });
    assert.equal(held.votes[0]!.count, 4);
  });

  test('maxVotes above the pool size samples agents again; normalize compares answers', async (t) => {
    const swarm = await startMockSwarm({
      count: 2,
      perAgent: (index) => ({ reply: () => (index === 0 ? 'Paris.' : 'paris, France') }),
    });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known, concurrency: 1 });
    const result = await consensus(pool, 'Capital of France?', {
      maxVotes: 4,
      normalize: (text) => text.toLowerCase().replace(/[^a-z].*$/, ''),
    });
    assert.equal(result.winner, 'paris');
    // Decided after 3 of 4: the last vote cannot change it.
    assert.equal(result.votes[0]!.count, 3);
    assert.equal(result.aborted, 1);
    assert.equal(result.responses.length, 4);
    assert.equal(result.responses[2]!.globalIndex, 0, 'vote 2 went to agent 0 again');
  });

  test('failed votes do not vote; the caller can abort', async (t) => {
    const swarm = await yesNoSwarm(t);
    await swarm.agents[0]!.stop();
    await using pool = new VLLMPool({
      endpoints: swarm.endpoints,
      ...known,
      concurrency: 1,
      maxRetries: 0,
    });
    const controller = new AbortController();
    const arrived = swarm.agents[5]!.nextRequest();
    const pending = consensus(pool, 'x', { signal: controller.signal });
    // One at a time: agent 0 fails, agents 1-4 say yes (4 votes); the 4 left could still
    // tie, so agent 5 is asked.
    await arrived;
    controller.abort();
    const result = await pending;
    assert.equal(result.winner, 'yes');
    assert.equal(result.votes[0]!.count, 4);
    assert.equal(result.stoppedEarly, false);
    assert.equal(result.responses[0]!.failureKind, 'connect');
  });

  test('options are checked', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    for (const options of [{ quorum: 0 }, { quorum: 1.5 }, { maxVotes: 0 }, { minVotes: 1.5 }]) {
      await assert.rejects(consensus(pool, 'x', options), InvalidOptionError);
    }
    await assert.rejects(
      consensus(pool, 'x', { normalize: () => 3 as never }),
      /consensus: option "normalize" must return a string, got 3/,
    );
  });
});

describe('broadcast with stopWhen', () => {
  test('stops once the callback says so; the calls still running are aborted', async (t) => {
    const swarm = await yesNoSwarm(t);
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    const aborts = Promise.all(swarm.agents.slice(5).map((agent) => agent.nextAbort()));
    const seen: number[] = [];
    const responses = await broadcast(pool, 'x', {
      stopWhen: (soFar) => {
        seen.push(soFar.length);
        return soFar.filter((response) => response.success).length >= 5;
      },
    });
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    assert.equal(responses.length, 9);
    assert.ok(responses.slice(0, 5).every((response) => response.success));
    assert.ok(responses.slice(5).every((response) => response.failureKind === 'aborted'));
    await aborts;
  });

  test('stopWhen must be a function', async (t) => {
    const swarm = await startMockSwarm({ count: 1 });
    t.after(() => swarm.close());
    await using pool = new VLLMPool({ endpoints: swarm.endpoints, ...known });
    await assert.rejects(broadcast(pool, 'x', { stopWhen: true as never }), InvalidOptionError);
  });
});
