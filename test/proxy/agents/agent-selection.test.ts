import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  hashText,
  matchesTagFilter,
  parseAgentTagFilter,
  pickBySession,
  pickLeastInFlight,
  type SelectableAgent,
} from '../../../src/proxy/agents/agent-selection.js';
import { SAMPLE_RING_CAPACITY, SampleRing } from '../../../src/proxy/agents/sample-ring.js';

function agent(name: string, inFlight = 0): SelectableAgent & { name: string } {
  return { name, stats: { inFlight }, hashSeed: hashText(name), endpoint: { tags: {} } };
}

/** A `random` that returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] as number;
}

describe('X-Agent-Tag filters', () => {
  test('key=value pairs, comma separated or repeated, all required', () => {
    const filter = parseAgentTagFilter(['role=worker, gpu=a100', 'node=x1']);
    assert.ok(typeof filter !== 'string');
    assert.equal(filter.text, 'gpu=a100,node=x1,role=worker');
    assert.ok(matchesTagFilter({ role: 'worker', gpu: 'a100', node: 'x1', extra: 'y' }, filter));
    assert.ok(!matchesTagFilter({ role: 'worker', gpu: 'a100' }, filter));
    assert.ok(!matchesTagFilter({ role: 'critic', gpu: 'a100', node: 'x1' }, filter));
  });

  test('a value may contain "=": only the first one splits', () => {
    const filter = parseAgentTagFilter(['expr=a=b']);
    assert.ok(typeof filter !== 'string');
    assert.ok(matchesTagFilter({ expr: 'a=b' }, filter));
  });

  test('malformed values give a message quoting the header', () => {
    for (const value of ['', 'role', '=worker', 'role=', 'role=a,', 'ro le=x', 'role=a b']) {
      const result = parseAgentTagFilter([value]);
      assert.equal(typeof result, 'string', value);
      assert.match(result as string, /^invalid X-Agent-Tag header ".*": expected key=value/);
    }
  });

  test('inherited properties are not tags', () => {
    const filter = parseAgentTagFilter(['constructor=x']);
    assert.ok(typeof filter !== 'string');
    assert.ok(!matchesTagFilter({}, filter));
  });
});

describe('power of two choices', () => {
  test('takes the less loaded of the two drawn, never the same one twice', () => {
    const busy = agent('busy', 5);
    const idle = agent('idle', 0);
    // Whatever is drawn, with two candidates both are compared.
    for (const draw of [0, 0.3, 0.7, 0.99]) {
      assert.equal(pickLeastInFlight([busy, idle], sequence(draw, draw)), idle);
      assert.equal(pickLeastInFlight([idle, busy], sequence(draw, draw)), idle);
    }
  });

  test('draws among all candidates', () => {
    const agents = [agent('a', 3), agent('b', 1), agent('c', 2), agent('d', 0)];
    // first = index 0 (a), second = index 2 of the 3 others (d).
    assert.equal(pickLeastInFlight(agents, sequence(0, 0.9)), agents[3]);
    // first = index 1 (b), second = index 1 of the others, which is c: b wins.
    assert.equal(pickLeastInFlight(agents, sequence(0.3, 0.4)), agents[1]);
  });

  test('zero or one candidate', () => {
    assert.equal(pickLeastInFlight([]), undefined);
    const only = agent('only', 9);
    assert.equal(pickLeastInFlight([only]), only);
  });

  test('the pick is always one of the candidates', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(10), { minLength: 2, maxLength: 20 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (loads, first, second) => {
          const agents = loads.map((load, index) => agent(String(index), load));
          const picked = pickLeastInFlight(agents, sequence(first, second));
          assert.ok(picked !== undefined && agents.includes(picked));
        },
      ),
    );
  });
});

describe('session pinning (rendezvous hashing)', () => {
  const agents = Array.from({ length: 8 }, (_, index) => agent(`10.0.0.${index}:8000`));

  test('the same session always gets the same agent', () => {
    for (const session of ['alice', 'bob', 'session-42']) {
      const first = pickBySession(agents, session);
      for (let round = 0; round < 5; round++) assert.equal(pickBySession(agents, session), first);
    }
  });

  test('sessions spread over the agents', () => {
    const used = new Set<unknown>();
    for (let session = 0; session < 200; session++) used.add(pickBySession(agents, `s${session}`));
    assert.equal(used.size, agents.length);
  });

  test('removing an agent only moves the sessions it had', () => {
    const removed = agents[3]!;
    const rest = agents.filter((candidate) => candidate !== removed);
    for (let session = 0; session < 500; session++) {
      const before = pickBySession(agents, `s${session}`);
      const after = pickBySession(rest, `s${session}`);
      if (before !== removed) assert.equal(after, before, `session s${session} moved`);
    }
  });

  test('no candidate, no pick', () => {
    assert.equal(pickBySession([], 'x'), undefined);
  });
});

describe('SampleRing', () => {
  test('nearest-rank percentiles of the samples held', () => {
    const ring = new SampleRing();
    assert.equal(ring.percentiles(), null);
    for (let value = 100; value >= 1; value--) ring.add(value);
    assert.deepEqual(ring.percentiles(), { p50: 50, p90: 90, p99: 99 });
    ring.add(1000);
    // 101 samples: the 100th smallest is the 99th percentile.
    assert.equal(ring.percentiles()?.p99, 100, 'recomputed after a new sample');
  });

  test('keeps only the most recent samples', () => {
    const ring = new SampleRing();
    for (let index = 0; index < SAMPLE_RING_CAPACITY; index++) ring.add(1);
    for (let index = 0; index < SAMPLE_RING_CAPACITY; index++) ring.add(7.123);
    assert.equal(ring.size, SAMPLE_RING_CAPACITY);
    assert.deepEqual(ring.percentiles(), { p50: 7.12, p90: 7.12, p99: 7.12 });
  });
});
