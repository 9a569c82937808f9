import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractFirstNumber, statistics } from '../../src/aggregators/statistics.js';
import { InvalidOptionError } from '../../src/errors.js';
import { failed, ok } from './responses.js';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('extractFirstNumber', () => {
  test('reads signs, decimals and exponents', () => {
    assert.equal(extractFirstNumber('about 42 apples'), 42);
    assert.equal(extractFirstNumber('T = -3.5 K'), -3.5);
    assert.equal(extractFirstNumber('.25'), 0.25);
    assert.equal(extractFirstNumber('rate 1.5e-3 per s, then 7'), 0.0015);
    assert.equal(extractFirstNumber('no digits'), undefined);
  });
});

describe('statistics', () => {
  test('computes count, mean, sample std, median, min and max', () => {
    const result = statistics([
      ok('2'),
      ok('4'),
      ok('4'),
      ok('4'),
      ok('5'),
      ok('5'),
      ok('7'),
      ok('9'),
    ]);
    assert.equal(result.count, 8);
    close(result.mean, 5);
    close(result.std, Math.sqrt(32 / 7));
    close(result.median, 4.5);
    assert.equal(result.min, 2);
    assert.equal(result.max, 9);
    assert.equal(result.skipped, 0);
  });

  test('odd count median is the middle value; one value has std 0', () => {
    const result = statistics([ok('10'), ok('1'), ok('3')]);
    assert.equal(result.median, 3);
    assert.equal(statistics([ok('7')]).std, 0);
  });

  test('non-numeric answers are skipped and counted, failures left out', () => {
    const result = statistics([
      ok('10'),
      ok('The answer is 10.'),
      ok('I cannot say.'),
      ok('20'),
      failed('timeout'),
      ok(''),
    ]);
    assert.equal(result.count, 2);
    assert.equal(result.mean, 15);
    assert.equal(result.skipped, 3);
    assert.equal(statistics([ok('1'), failed('x')], { includeFailures: true }).skipped, 1);
    // Numbers inside prose are read with the opt-in extractFirstNumber.
    const prose = statistics([ok('The answer is 10.'), ok('20')], {
      extract: (response) => extractFirstNumber(response.text),
    });
    assert.equal(prose.mean, 15);
  });

  test('no numbers at all: count 0 and zeros, as the Python original; no throw', () => {
    for (const responses of [[], [ok('none'), ok('nothing')], [failed('x')]]) {
      const result = statistics(responses);
      assert.equal(result.count, 0);
      for (const field of ['mean', 'std', 'median', 'min', 'max'] as const) {
        assert.equal(result[field], 0, field);
      }
    }
    assert.equal(statistics([ok('a'), ok('b')]).skipped, 2);
  });

  test('a custom extract; undefined and non-finite results are skipped', () => {
    const result = statistics([ok('x=3;y=100'), ok('x=5'), ok('y=1'), ok('x=Infinity')], {
      extract: (response) => {
        const match = /x=([^;]+)/.exec(response.text);
        return match ? Number(match[1]) : undefined;
      },
    });
    assert.equal(result.count, 2);
    assert.equal(result.mean, 4);
    assert.equal(result.skipped, 2);
  });

  test('rejects a bad extract', () => {
    assert.throws(() => statistics([ok('1')], { extract: 'first' as never }), InvalidOptionError);
    assert.throws(
      () => statistics([ok('1')], { extract: () => '1' as never }),
      /must return a number or undefined, got "1"/,
    );
  });
});
