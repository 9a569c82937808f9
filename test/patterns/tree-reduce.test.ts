import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { treeReduce, treeReduceDetails } from '../../src/patterns/tree-reduce.js';
import { FakePool } from './fake-pool.js';

/** Supervisors answer `S(<level>:<their inputs joined by +>)`, leaves echo their prompt. */
function reducingAnswer(_globalIndex: number, prompt: string): string {
  const match = /^reduce L(\d+)\n([\s\S]*)$/.exec(prompt);
  if (!match) return prompt;
  return `S${match[1]}(${(match[2] ?? '').split('\n---\n').join('+')})`;
}

describe('treeReduce', () => {
  test('reduces leaves in groups of fanin, level by level, to one answer', async () => {
    const pool = new FakePool({ size: 3, answer: reducingAnswer, maxTokensAggregation: 99 });
    const items = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const result = await treeReduceDetails(pool, 'leaf {item}', 'reduce L{level}\n{responses}', {
      items,
      fanin: 3,
      maxTokens: 10,
    });
    // 7 leaves → groups [a b c] [d e f] [g] → 3 level-1 nodes → one level-2 group.
    assert.equal(result.answer.success, true);
    assert.equal(
      result.answer.text,
      'S2(S1(leaf a+leaf b+leaf c)+S1(leaf d+leaf e+leaf f)+leaf g)',
    );
    assert.equal(result.levels.length, 3);
    assert.deepEqual(
      result.levels[0]?.map((response) => [response.agentIndex, response.text]),
      items.map((item, index) => [index % 3, `leaf ${item}`]),
    );
    assert.equal(result.levels[1]?.[2]?.text, 'leaf g', 'a group of one passes through');
    assert.equal(result.supervisorCalls, 3);
    assert.deepEqual(result.failures, []);
    const supervisorCalls = pool.calls.filter((call) => call.prompt.startsWith('reduce'));
    assert.ok(supervisorCalls.every((call) => call.options?.maxTokens === 99));
    assert.ok(
      pool.calls
        .filter((call) => call.prompt.startsWith('leaf'))
        .every((call) => call.options?.maxTokens === 10),
    );
  });

  test('without items the prompt is broadcast to every agent', async () => {
    const pool = new FakePool({
      size: 4,
      answer: (index, prompt) => reducingAnswer(index, prompt === 'q' ? `a${index}` : prompt),
    });
    const result = await treeReduceDetails(pool, 'q', 'reduce L{level}\n{responses}', { fanin: 2 });
    assert.equal(result.answer.text, 'S2(S1(a0+a1)+S1(a2+a3))');
    assert.equal(pool.calls.filter((call) => call.prompt === 'q').length, 4);
  });

  test('one leaf is the answer, without a supervisor call', async () => {
    const pool = new FakePool({ size: 2 });
    const result = await treeReduceDetails(pool, 'only {item}', 'reduce {responses}', {
      items: ['x'],
    });
    assert.equal(result.answer.text, 'agent 0: only x');
    assert.equal(result.supervisorCalls, 0);
  });

  test('placeholders inside agent answers survive verbatim', async () => {
    const tricky = 'I mention {level} and {responses} and $& literally';
    const pool = new FakePool({
      size: 2,
      answer: (_index, prompt) => (prompt.startsWith('SUP') ? prompt : tricky),
    });
    const result = await treeReduceDetails(pool, 'leaf', 'SUP {level}: {responses}', { fanin: 2 });
    assert.equal(result.answer.text, `SUP 1: ${tricky}\n---\n${tricky}`);
  });

  test('failures are reported: failed leaves, a failed supervisor, a group with no successful input', async () => {
    const pool = new FakePool({
      size: 6,
      answer: (globalIndex, prompt) => {
        if (prompt === 'leaf' && globalIndex >= 4)
          return { error: 'cannot connect', failureKind: 'connect' };
        if (prompt.startsWith('reduce') && prompt.includes('leaf-2'))
          return { error: 'context overflow', failureKind: 'context-overflow' };
        return prompt === 'leaf' ? `leaf-${globalIndex}` : reducingAnswer(globalIndex, prompt);
      },
    });
    const result = await treeReduceDetails(pool, 'leaf', 'reduce L{level}\n{responses}', {
      fanin: 2,
    });
    // Level 1: [leaf-0 leaf-1] ok, [leaf-2 leaf-3] supervisor fails, [4 5] both failed.
    assert.deepEqual(
      result.failures.map((failure) => [failure.level, failure.index, failure.cause]),
      [
        [0, 4, 'leaf'],
        [0, 5, 'leaf'],
        [1, 1, 'supervisor'],
        [1, 2, 'no-successful-input'],
        [2, 1, 'no-successful-input'],
      ],
    );
    assert.equal(result.failures[3]?.response.failureKind, 'connect');
    assert.match(
      result.failures[3]?.response.error ?? '',
      /none of its 2 input\(s\) succeeded.*cannot connect/,
    );
    // Level 2: [S1(0,1), failed] passes its one success up; [failed group 2] has none.
    assert.equal(result.answer.success, true);
    assert.equal(result.answer.text, 'S1(leaf-0+leaf-1)');
  });

  test('when every leaf fails the answer is a failure carrying the cause', async () => {
    const pool = new FakePool({
      size: 3,
      answer: () => ({ error: 'HTTP 500', failureKind: 'http' }),
    });
    const result = await treeReduceDetails(pool, 'leaf', 'reduce {responses}', { fanin: 2 });
    assert.equal(result.answer.success, false);
    assert.equal(result.answer.failureKind, 'http');
    assert.equal(result.supervisorCalls, 0);
  });

  test('a supervisor starts as soon as its own group is done, not the whole level', async () => {
    const pool = new FakePool({ size: 4, manual: true });
    const done = treeReduceDetails(pool, 'leaf', 'reduce {responses}', { fanin: 2 });
    const leaves = await Promise.all([0, 1, 2, 3].map((sequence) => pool.call(sequence)));
    leaves[0]?.respond('a');
    leaves[1]?.respond('b');
    const supervisor = await pool.call(4);
    assert.equal(supervisor.prompt, 'reduce a\n---\nb');
    assert.equal(leaves[2]?.settled, false, 'leaf 2 is still running');
    supervisor.respond('ab');
    leaves[2]?.respond('c');
    leaves[3]?.respond('d');
    (await pool.call(5)).respond('cd');
    const root = await pool.call(6);
    assert.equal(root.prompt, 'reduce ab\n---\ncd');
    root.respond('abcd');
    assert.equal((await done).answer.text, 'abcd');
  });

  test('keeps at most window calls in flight over leaves and supervisors', async () => {
    const pool = new FakePool({ size: 5, concurrency: 3 });
    const items = Array.from({ length: 40 }, (_, index) => index);
    const result = await treeReduceDetails(pool, '{item}', 'reduce {responses}', {
      items,
      fanin: 4,
    });
    assert.equal(result.answer.success, true);
    assert.ok(pool.peakInFlight <= 3);
  });

  test('abort: no new call starts and the answer is an aborted failure', async () => {
    const pool = new FakePool({ size: 4, manual: true });
    const controller = new AbortController();
    const done = treeReduceDetails(pool, 'leaf', 'reduce {responses}', {
      fanin: 2,
      signal: controller.signal,
    });
    const leaves = await Promise.all([0, 1, 2, 3].map((sequence) => pool.call(sequence)));
    leaves[0]?.respond('a');
    leaves[1]?.respond('b');
    await pool.call(4);
    controller.abort();
    const result = await done;
    assert.equal(pool.calls.length, 5);
    assert.equal(result.answer.success, false);
    assert.equal(result.answer.failureKind, 'aborted');
    assert.ok(leaves.slice(2).every((leaf) => leaf.options?.signal?.aborted));
    assert.equal(
      result.levels[1]?.[0]?.failureKind,
      'aborted',
      'the supervisor in flight got the signal',
    );
  });

  test('fanin below 2, non-integer fanin and empty items throw InvalidOptionError', async () => {
    const pool = new FakePool({ size: 2 });
    for (const fanin of [1, 0, -3, 2.5, Number.NaN, '4' as unknown as number]) {
      await assert.rejects(treeReduce(pool, 'p', 'r', { fanin }), (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(error.message, /fanin must be an integer >= 2/);
        return true;
      });
    }
    await assert.rejects(treeReduce(pool, 'p', 'r', { items: [] }), /items must not be empty/);
    await assert.rejects(treeReduce(new FakePool({ size: 0 }), 'p', 'r'), /no agents/);
    assert.equal(pool.calls.length, 0);
  });

  test('resolves to the root response itself; treeReduceDetails gives the same answer', async () => {
    const pool = new FakePool({ size: 2, answer: reducingAnswer });
    const answer = await treeReduce(pool, 'leaf {item}', 'reduce L{level}\n{responses}', {
      items: ['a', 'b', 'c'],
      fanin: 2,
    });
    assert.equal(answer.text, 'S2(S1(leaf a+leaf b)+leaf c)');
    assert.equal('levels' in answer || 'answer' in answer, false);
  });

  test('supervisorMaxTokens(level, groupSize) sets each supervisor budget', async () => {
    const pool = new FakePool({ size: 3, answer: reducingAnswer, maxTokensAggregation: 99 });
    const seen: [number, number][] = [];
    const details = await treeReduceDetails(pool, 'leaf {item}', 'reduce L{level}\n{responses}', {
      items: ['a', 'b', 'c', 'd', 'e'],
      fanin: 3,
      maxTokens: 10,
      supervisorMaxTokens: (level, groupSize) => {
        seen.push([level, groupSize]);
        return 100 * level + groupSize;
      },
    });
    assert.equal(details.answer.success, true);
    assert.deepEqual(
      seen.sort((left, right) => left[0] - right[0] || left[1] - right[1]),
      [
        [1, 2],
        [1, 3],
        [2, 2],
      ],
    );
    const budgets = pool.calls
      .filter((call) => call.prompt.startsWith('reduce'))
      .map((call) => [call.prompt.slice(0, 8), call.options?.maxTokens]);
    assert.deepEqual(
      budgets.sort(),
      [
        ['reduce L', 102],
        ['reduce L', 103],
        ['reduce L', 202],
      ].sort(),
    );
    assert.ok(
      pool.calls
        .filter((call) => call.prompt.startsWith('leaf'))
        .every((call) => call.options?.maxTokens === 10),
      'leaves keep the pattern maxTokens',
    );
  });

  test('a bad supervisorMaxTokens is misuse: InvalidOptionError, no more calls', async () => {
    const pool = new FakePool({ size: 2, answer: reducingAnswer });
    await assert.rejects(
      treeReduce(pool, '{item}', 'reduce L{level}\n{responses}', {
        items: ['a', 'b'],
        fanin: 2,
        supervisorMaxTokens: () => 0.5,
      }),
      /supervisorMaxTokens\(1, 2\) must return a positive integer, got 0\.5/,
    );
    await assert.rejects(
      treeReduce(pool, 'p', 'r', { supervisorMaxTokens: 5 as never }),
      /supervisorMaxTokens must be a function/,
    );
  });

  test('answers without text are left out of their group, as the Python original', async () => {
    const pool = new FakePool({
      size: 4,
      answer: (index, prompt) =>
        prompt === 'q' ? (index % 2 === 0 ? ' \n' : `a${index}`) : reducingAnswer(index, prompt),
    });
    const details = await treeReduceDetails(pool, 'q', 'reduce L{level}\n{responses}', {
      fanin: 2,
    });
    // Groups [empty a1] and [empty a3]: each has one usable answer, which passes up unchanged.
    assert.equal(details.answer.text, 'S2(a1+a3)');
    assert.equal(details.supervisorCalls, 1);
    const allEmpty = new FakePool({ size: 2, answer: () => '   ' });
    const failed = await treeReduceDetails(allEmpty, 'q', 'reduce {responses}', { fanin: 2 });
    assert.equal(failed.answer.success, false);
    assert.match(failed.answer.error ?? '', /its 2 input\(s\) were all empty/);
  });
});
