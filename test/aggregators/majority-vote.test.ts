import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { majorityVote, normalizeAnswer } from '../../src/aggregators/majority-vote.js';
import { InvalidOptionError } from '../../src/errors.js';
import { failed, ok } from './responses.js';

describe('majorityVote', () => {
  test('winner is the normalised answer; winnerText the first original spelling', () => {
    const result = majorityVote([
      ok('Blue', 0),
      ok('  paris ', 1),
      ok('PARIS', 2),
      ok('Paris\n', 3),
    ]);
    assert.equal(result.winner, 'paris');
    assert.equal(result.winnerText, '  paris ');
    assert.equal(result.confidence, 3 / 4);
    assert.equal(result.considered, 4);
    assert.deepEqual(result.votes, [
      { answer: '  paris ', normalized: 'paris', count: 3 },
      { answer: 'Blue', normalized: 'blue', count: 1 },
    ]);
  });

  test('inner whitespace is kept, as in the Python original; only the ends are stripped', () => {
    assert.equal(normalizeAnswer('  New\t\n  York  '), 'new\t\n  york');
    const result = majorityVote([ok('new york'), ok('New   York'), ok('Boston'), ok('NEW YORK')]);
    assert.equal(result.winner, 'new york');
    assert.equal(result.confidence, 2 / 4);
  });

  test('a tie goes to the answer seen first', () => {
    assert.equal(majorityVote([ok('b'), ok('a'), ok('a'), ok('b')]).winner, 'b');
    assert.equal(majorityVote([ok('a'), ok('b'), ok('b'), ok('a')]).winner, 'a');
  });

  test('skips failures by default, so confidence is over the successes', () => {
    const result = majorityVote([
      ok('yes'),
      failed('timeout'),
      failed('timeout'),
      ok('no'),
      ok('yes'),
    ]);
    assert.equal(result.winner, 'yes');
    assert.equal(result.considered, 3);
    assert.equal(result.confidence, 2 / 3);
  });

  test('includeFailures counts failures as empty answers', () => {
    const result = majorityVote([ok('yes'), failed('x'), failed('y'), failed('z'), ok('yes')], {
      includeFailures: true,
    });
    assert.equal(result.winner, '');
    assert.equal(result.considered, 5);
    assert.equal(result.confidence, 3 / 5);
  });

  test('empty input and all-failed input give no winner and confidence 0', () => {
    for (const responses of [[], [failed('a'), failed('b')]]) {
      const result = majorityVote(responses);
      assert.equal(result.winner, '');
      assert.equal(result.winnerText, '');
      assert.equal(result.confidence, 0);
      assert.equal(result.considered, 0);
      assert.deepEqual(result.votes, []);
    }
  });

  test('a custom normaliser decides what votes together', () => {
    const result = majorityVote([ok('Answer: 4'), ok('4'), ok('5')], {
      normalize: (text) => text.replace(/^answer:\s*/i, ''),
    });
    assert.equal(result.winner, '4');
    assert.equal(result.winnerText, 'Answer: 4');
    assert.equal(result.confidence, 2 / 3);
  });

  test('rejects bad arguments with InvalidOptionError quoting the value', () => {
    assert.throws(() => majorityVote('nope' as never), InvalidOptionError);
    assert.throws(() => majorityVote([{ text: 'x' } as never]), /responses\[0\]/);
    assert.throws(
      () => majorityVote([ok('a')], { includeFailures: 'yes' as never }),
      /"includeFailures" must be a boolean, got "yes"/,
    );
    assert.throws(
      () => majorityVote([ok('a')], { normalize: 3 as never }),
      /"normalize" must be a function, got 3/,
    );
    assert.throws(
      () => majorityVote([ok('a')], { normalize: () => 1 as never }),
      /must return a string, got 1/,
    );
  });
});
