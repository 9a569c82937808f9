import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { Blackboard, type BoardState } from '../../src/patterns/blackboard.js';
import { FakePool } from './fake-pool.js';

const roles: Record<string, string>[] = [
  { role: 'hypotheses' },
  { role: 'critiques' },
  { role: 'hypotheses' },
  {},
];

describe('Blackboard', () => {
  test('each round prompts the sections in order with their role-tagged agents', async () => {
    const pool = new FakePool({
      tags: roles,
      answer: (index, prompt) => `#${index} ${prompt.slice(0, 14)}`,
    });
    const seen: string[] = [];
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (section, state, round) => {
        seen.push(`${section}:${round}:${state.hypotheses?.length}:${state.critiques?.length}`);
        return `${section} r${round}`;
      },
    });
    const result = await board.runDetails(pool, { maxRounds: 2 });
    assert.deepEqual(seen, [
      'hypotheses:1:0:0',
      'critiques:1:2:0',
      'hypotheses:2:2:1',
      'critiques:2:4:1',
    ]);
    assert.deepEqual(result.board.hypotheses, [
      '#0 hypotheses r1',
      '#2 hypotheses r1',
      '#0 hypotheses r2',
      '#2 hypotheses r2',
    ]);
    assert.deepEqual(result.board.critiques, ['#1 critiques r1', '#1 critiques r2']);
    assert.equal(result.round, 2);
    assert.equal(board.round, 2);
    assert.equal(result.roundsRun, 2);
    assert.equal(result.converged, false);
    assert.deepEqual(result.idleSections, []);
    assert.ok(
      pool.calls.every((call) => call.globalIndex !== 3),
      'the untagged agent is never asked',
    );
  });

  test('stops when convergence returns true; failures are reported, not written', async () => {
    const pool = new FakePool({
      tags: roles,
      answer: (index, prompt) =>
        index === 2 ? { error: 'HTTP 503', failureKind: 'http' } : `${index}:${prompt}`,
    });
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (section) => section,
    });
    const rounds: number[] = [];
    const result = await board.runDetails(pool, {
      convergence: (state, round) => {
        rounds.push(round);
        return (state.critiques?.length ?? 0) >= 3;
      },
    });
    assert.deepEqual(rounds, [1, 2, 3]);
    assert.equal(result.converged, true);
    assert.equal(result.board.hypotheses?.length, 3);
    assert.deepEqual(
      result.failures.map((failure) => [failure.round, failure.section, failure.response.error]),
      [
        [1, 'hypotheses', 'HTTP 503'],
        [2, 'hypotheses', 'HTTP 503'],
        [3, 'hypotheses', 'HTTP 503'],
      ],
    );
  });

  test('runs at most maxRounds (default 10) and continues from the previous run', async () => {
    const pool = new FakePool({ tags: roles });
    const board = new Blackboard({ sections: ['critiques'], promptFn: () => 'go' });
    assert.equal((await board.runDetails(pool)).round, 10);
    const again = await board.runDetails(pool, { maxRounds: 1 });
    assert.equal(again.round, 11);
    assert.equal(again.roundsRun, 1);
    assert.equal(board.board.critiques?.length, 11);
  });

  test('boardView bounds what promptFn sees: last N per section, then max characters', async () => {
    const pool = new FakePool({
      tags: [{ role: 'notes' }, { role: 'notes' }],
      answer: (index, prompt) => `${index}${prompt}`,
    });
    const views: BoardState[] = [];
    const board = new Blackboard({
      sections: ['notes'],
      promptFn: (_section, state, round) => {
        views.push(state);
        return `r${round}`;
      },
    });
    await board.run(pool, { maxRounds: 4, boardView: { lastPerSection: 3 } });
    assert.deepEqual(views[3]?.notes, ['1r2', '0r3', '1r3']);
    assert.equal(board.board.notes?.length, 8);

    views.length = 0;
    await board.run(pool, { maxRounds: 1, boardView: { maxCharacters: 7 } });
    assert.deepEqual(views[0]?.notes, ['0r4', '1r4'], 'whole entries, newest kept');

    views.length = 0;
    await board.run(pool, { maxRounds: 1, boardView: { maxCharacters: 2 } });
    assert.deepEqual(views[0]?.notes, ['1r'], 'a single entry longer than the limit is cut');

    views.length = 0;
    await board.run(pool, { maxRounds: 1 });
    assert.equal(views[0]?.notes?.length, 12, 'the whole board by default');
  });

  test('maxCharacters drops the oldest entries across sections', async () => {
    const pool = new FakePool({
      tags: [{ role: 'a' }, { role: 'b' }],
      answer: (index, prompt) => `${index}${prompt}`,
    });
    const views: BoardState[] = [];
    const board = new Blackboard({
      sections: ['a', 'b'],
      promptFn: (section, state, round) => {
        views.push(state);
        return `${section}${round}`;
      },
    });
    await board.run(pool, { maxRounds: 2, boardView: { maxCharacters: 9 } });
    // Written in order: 0a1, 1b1, 0a2; the last prompt (b, round 2) sees the newest 9 characters.
    assert.deepEqual(views[3], { a: ['0a1', '0a2'], b: ['1b1'] });
    await board.run(pool, { maxRounds: 1, boardView: { maxCharacters: 6 } });
    assert.deepEqual(views[4], { a: ['0a2'], b: ['1b2'] });
  });

  test('snapshot and the run result are deep copies; promptFn cannot change the board', async () => {
    const pool = new FakePool({ tags: [{ role: 'notes' }] });
    const board = new Blackboard({
      sections: ['notes'],
      promptFn: (_section, state) => {
        state.notes?.push('injected');
        return 'p';
      },
    });
    const result = await board.runDetails(pool, { maxRounds: 1 });
    const snapshot = board.snapshot();
    assert.deepEqual(snapshot, { round: 1, board: { notes: ['agent 0: p'] } });
    snapshot.board.notes?.push('changed');
    result.board.notes?.push('changed');
    assert.deepEqual(board.board.notes, ['agent 0: p']);
  });

  test('abort stops prompting; the interrupted round is not counted', async () => {
    const pool = new FakePool({ tags: roles, manual: true });
    const controller = new AbortController();
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (section) => section,
    });
    const done = board.runDetails(pool, { signal: controller.signal });
    (await pool.call(0)).respond('h0');
    await pool.call(1);
    controller.abort();
    const result = await done;
    assert.equal(pool.calls.length, 2, 'the critiques section is never prompted');
    assert.equal(result.aborted, true);
    assert.equal(result.round, 0);
    assert.deepEqual(result.board, { hypotheses: ['h0'], critiques: [] });
    assert.equal(result.failures[0]?.response.failureKind, 'aborted');
  });

  test('sections without agents are reported idle; no agent at all is an error', async () => {
    const pool = new FakePool({ tags: roles });
    const board = new Blackboard({ sections: ['hypotheses', 'votes'], promptFn: () => 'p' });
    assert.deepEqual((await board.runDetails(pool, { maxRounds: 1 })).idleSections, ['votes']);
    const lonely = new Blackboard({ sections: ['votes'], promptFn: () => 'p' });
    await assert.rejects(
      lonely.run(pool),
      /no agent of the pool has a role tag naming a section \(sections: votes\)/,
    );
  });

  test('bad options throw InvalidOptionError', async () => {
    const pool = new FakePool({ tags: roles });
    assert.throws(() => new Blackboard({ sections: [], promptFn: () => '' }), InvalidOptionError);
    assert.throws(
      () => new Blackboard({ sections: ['a', 'a'], promptFn: () => '' }),
      /sections\[1\] repeats "a"/,
    );
    assert.throws(
      () => new Blackboard({ sections: ['a'], promptFn: 'x' as unknown as () => string }),
      /promptFn must be a function/,
    );
    const board = new Blackboard({ sections: ['critiques'], promptFn: () => 'p' });
    await assert.rejects(
      board.run(pool, { maxRounds: -1 }),
      /maxRounds must be a non-negative integer, got -1/,
    );
    await assert.rejects(
      board.run(pool, { boardView: { lastPerSection: 0 } }),
      /boardView.lastPerSection/,
    );
    await assert.rejects(
      board.run(pool, { boardView: { maxCharacters: 1.5 } }),
      /boardView.maxCharacters/,
    );
    const badPrompt = new Blackboard({
      sections: ['critiques'],
      promptFn: () => 42 as unknown as string,
    });
    await assert.rejects(badPrompt.run(pool), /promptFn must return a string, got 42/);
  });

  test('run resolves to the board itself (section → entries), as the Python original', async () => {
    const pool = new FakePool({ tags: roles, answer: (index) => `#${index}` });
    const board = new Blackboard({ sections: ['hypotheses', 'critiques'], promptFn: (s) => s });
    const state = await board.run(pool, { maxRounds: 1 });
    assert.deepEqual(state, { hypotheses: ['#0', '#2'], critiques: ['#1'] });
    state.hypotheses?.push('mine');
    assert.deepEqual(board.board.hypotheses, ['#0', '#2'], 'a copy, the board stays intact');
  });

  test('onSection sees every round and section with its prompt and answers, in order', async () => {
    const pool = new FakePool({
      tags: roles,
      answer: (index) => (index === 2 ? { error: 'down', failureKind: 'connect' } : `#${index}`),
    });
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (section, _state, round) => `${section} ${round}`,
    });
    const log: string[] = [];
    await board.run(pool, {
      maxRounds: 2,
      onSection: async (event) => {
        await Promise.resolve();
        log.push(
          `${event.round}/${event.section}/${event.prompt}/${event.responses.map((r) => (r.success ? r.text : 'x')).join(',')}/${board.board[event.section]?.length}`,
        );
      },
    });
    assert.deepEqual(log, [
      '1/hypotheses/hypotheses 1/#0,x/1',
      '1/critiques/critiques 1/#1/1',
      '2/hypotheses/hypotheses 2/#0,x/2',
      '2/critiques/critiques 2/#1/2',
    ]);
    const failing = new Blackboard({ sections: ['hypotheses'], promptFn: () => 'p' });
    await assert.rejects(
      failing.run(pool, {
        onSection: () => {
          throw new Error('log disk full');
        },
      }),
      /log disk full/,
    );
    await assert.rejects(failing.run(pool, { onSection: 'x' as never }), InvalidOptionError);
  });

  test('addEntries seeds a section before a run', async () => {
    const pool = new FakePool({ tags: roles });
    const seen: number[] = [];
    const board = new Blackboard({
      sections: ['hypotheses', 'critiques'],
      promptFn: (_section, state) => {
        seen.push(state.hypotheses?.length ?? -1);
        return 'p';
      },
    });
    board.addEntries('hypotheses', ['seed one', 'seed two']);
    const state = await board.run(pool, { maxRounds: 1 });
    assert.deepEqual(seen, [2, 4]);
    assert.deepEqual(state.hypotheses?.slice(0, 2), ['seed one', 'seed two']);
    assert.throws(
      () => board.addEntries('votes', ['x']),
      /section must be one of hypotheses, critiques/,
    );
    assert.throws(() => board.addEntries('hypotheses', [1 as never]), InvalidOptionError);
  });
});
