import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concat } from '../../src/aggregators/concat.js';
import { InvalidOptionError } from '../../src/errors.js';
import { failed, ok } from './responses.js';

describe('concat', () => {
  test('joins successful texts with a newline by default, in input order', () => {
    assert.equal(concat([ok('a', 2), failed('boom', 0), ok('b', 1)]), 'a\nb');
  });

  test('uses the given separator', () => {
    assert.equal(
      concat([ok('a'), ok('b'), ok('c')], { separator: '\n---\n' }),
      'a\n---\nb\n---\nc',
    );
  });

  test('includeFailures keeps the (empty) texts of failures', () => {
    assert.equal(
      concat([ok('a'), failed('boom'), ok('b')], { includeFailures: true, separator: '|' }),
      'a||b',
    );
  });

  test('no responses gives the empty string', () => {
    assert.equal(concat([]), '');
    assert.equal(concat([failed('x')]), '');
  });

  test('rejects a non-string separator', () => {
    assert.throws(
      () => concat([ok('a')], { separator: 1 as never }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(error.message, /"separator" must be a string, got 1/);
        return true;
      },
    );
  });
});
