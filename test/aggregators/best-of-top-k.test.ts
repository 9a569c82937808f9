import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bestOf } from '../../src/aggregators/best-of.js';
import { topK } from '../../src/aggregators/top-k.js';
import { InvalidOptionError } from '../../src/errors.js';
import type { AgentResponse } from '../../src/pool/types.js';
import { failed, ok } from './responses.js';

const byNumber = (response: AgentResponse) => Number(response.text);

describe('bestOf', () => {
  test('returns the response with the highest score', () => {
    const responses = [ok('3', 0), ok('9', 1), ok('5', 2)];
    assert.equal(bestOf(responses, byNumber), responses[1]);
  });

  test('ties go to the first in input order', () => {
    const responses = [ok('1', 0), ok('7', 1), ok('7', 2)];
    assert.equal(bestOf(responses, byNumber)?.agentIndex, 1);
  });

  test('skips failures unless includeFailures', () => {
    const responses = [ok('2', 0), failed('x', 1)];
    const score = (response: AgentResponse) => (response.success ? 1 : 10);
    assert.equal(bestOf(responses, score)?.agentIndex, 0);
    assert.equal(bestOf(responses, score, { includeFailures: true })?.agentIndex, 1);
  });

  test('nothing to choose from gives a failed response, as the Python original', () => {
    const expected = {
      success: false,
      text: '',
      error: 'No responses to select from',
      agentIndex: -1,
      globalIndex: -1,
    };
    assert.deepEqual(bestOf([], byNumber), expected);
    assert.deepEqual(bestOf([failed('x')], byNumber), expected);
    assert.equal(bestOf([], byNumber).text, '');
  });

  test('NaN scores rank below every number', () => {
    const responses = [ok('not a number', 0), ok('-5', 1)];
    assert.equal(bestOf(responses, byNumber)?.agentIndex, 1);
  });

  test('calls score once per considered response', () => {
    let calls = 0;
    bestOf([ok('1'), ok('2'), ok('3'), failed('x')], (response) => {
      calls++;
      return byNumber(response);
    });
    assert.equal(calls, 3);
  });

  test('rejects a score that is not a function or returns a non-number', () => {
    assert.throws(
      () => bestOf([ok('1')], 'length' as never),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(error.message, /bestOf: score must be a function, got "length"/);
        return true;
      },
    );
    assert.throws(() => bestOf([ok('1')], () => '1' as never), /must return a number, got "1"/);
  });
});

describe('topK', () => {
  test('descending by score, stable for ties', () => {
    const responses = [ok('2', 0), ok('9', 1), ok('2', 2), ok('5', 3), ok('9', 4)];
    assert.deepEqual(
      topK(responses, 4, byNumber).map((response) => response.agentIndex),
      [1, 4, 3, 0],
    );
  });

  test('k larger than the input returns all; k = 0 returns none', () => {
    const responses = [ok('1', 0), ok('2', 1)];
    assert.deepEqual(
      topK(responses, 10, byNumber).map((response) => response.agentIndex),
      [1, 0],
    );
    assert.deepEqual(topK(responses, 0, byNumber), []);
  });

  test('skips failures by default', () => {
    const responses = [failed('x', 0), ok('1', 1), ok('2', 2)];
    assert.deepEqual(
      topK(responses, 3, () => 0).map((response) => response.agentIndex),
      [1, 2],
    );
    assert.equal(topK(responses, 3, () => 0, { includeFailures: true }).length, 3);
  });

  test('does not reorder its input', () => {
    const responses = [ok('1', 0), ok('2', 1)];
    topK(responses, 2, byNumber);
    assert.deepEqual(
      responses.map((response) => response.agentIndex),
      [0, 1],
    );
  });

  test('rejects k that is not a non-negative integer, quoting it', () => {
    for (const [k, shown] of [
      [-1, '-1'],
      [1.5, '1.5'],
      [Number.NaN, 'NaN'],
      ['2', '"2"'],
    ] as const) {
      assert.throws(
        () => topK([ok('1')], k as number, byNumber),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.equal(error.code, 'ERR_INVALID_OPTION');
          assert.ok(
            error.message.includes(`k must be a non-negative integer, got ${shown}`),
            error.message,
          );
          return true;
        },
      );
    }
    assert.throws(() => topK([ok('1')], 1, null as never), /score must be a function/);
  });
});
