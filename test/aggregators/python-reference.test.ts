/**
 * The aggregators against the values the Python original's aggregators return on the same
 * inputs. test/fixtures/python-reference/aggregator-reference.json was written by
 * make-aggregator-reference.py beside it, which imports the Python original itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { bestOf } from '../../src/aggregators/best-of.js';
import { majorityVote } from '../../src/aggregators/majority-vote.js';
import { statistics } from '../../src/aggregators/statistics.js';
import { structuredMerge } from '../../src/aggregators/structured-merge.js';
import type { AgentResponse } from '../../src/pool/types.js';
import { fixturePath } from '../fixtures/fixture-path.js';
import { failed, ok } from './responses.js';

type NumberOrName = number | 'Infinity' | '-Infinity' | 'NaN';
interface Reference {
  statistics: {
    texts: string[];
    count: number;
    skipped: number;
    mean: NumberOrName;
    std: NumberOrName;
    median: NumberOrName;
    min: NumberOrName;
    max: NumberOrName;
    pythonRaises: boolean;
  }[];
  majorityVote: {
    texts: (string | null)[];
    includeFailures: boolean;
    winner: string;
    confidence: number;
  }[];
  structuredMerge: {
    texts: (string | null)[];
    includeFailures: boolean;
    merged: unknown[];
    errorAgentIndices: number[];
  }[];
  bestOfEmpty: { success: boolean; text: string; error: string; agentIndex: number };
}

const reference = JSON.parse(
  readFileSync(fixturePath('python-reference', 'aggregator-reference.json'), 'utf8'),
) as Reference;

// null stands for a failed response, as in the script that wrote the reference.
const responsesOf = (texts: readonly (string | null)[]): AgentResponse[] =>
  texts.map((text, index) => (text === null ? failed('boom', index) : ok(text, index)));

const toNumber = (value: NumberOrName): number =>
  typeof value === 'number' ? value : Number(value);

describe('aggregators equal the Python original', () => {
  test('statistics: every value equal to the last bit (Object.is, so -0 counts)', () => {
    assert.ok(reference.statistics.length >= 10);
    for (const expected of reference.statistics) {
      const actual = statistics(responsesOf(expected.texts));
      const label = JSON.stringify(expected.texts).slice(0, 80);
      assert.equal(actual.count, expected.count, label);
      assert.equal(actual.skipped, expected.skipped, label);
      for (const field of ['mean', 'std', 'median', 'min', 'max'] as const) {
        assert.equal(actual[field], toNumber(expected[field]), `${field} of ${label}`);
      }
    }
  });

  test('majorityVote: the normalised winner and the confidence', () => {
    for (const expected of reference.majorityVote) {
      const actual = majorityVote(responsesOf(expected.texts), {
        includeFailures: expected.includeFailures,
      });
      assert.equal(actual.winner, expected.winner, JSON.stringify(expected.texts));
      assert.equal(actual.confidence, expected.confidence, JSON.stringify(expected.texts));
    }
  });

  test('structuredMerge: the flat merged list and which responses failed to parse', () => {
    for (const expected of reference.structuredMerge) {
      const actual = structuredMerge(responsesOf(expected.texts), {
        includeFailures: expected.includeFailures,
      });
      assert.deepEqual(actual.merged, expected.merged, JSON.stringify(expected.texts));
      assert.deepEqual(
        actual.errors.map((error) => error.agentIndex),
        expected.errorAgentIndices,
      );
    }
  });

  test('bestOf([]) is the failed response the Python original returns', () => {
    const actual = bestOf([], () => 0);
    assert.equal(actual.success, reference.bestOfEmpty.success);
    assert.equal(actual.text, reference.bestOfEmpty.text);
    assert.equal(actual.error, reference.bestOfEmpty.error);
    assert.equal(actual.agentIndex, reference.bestOfEmpty.agentIndex);
  });
});
