import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mergeObjects } from '../../src/aggregators/merge-objects.js';
import { failed, ok } from './responses.js';

describe('mergeObjects', () => {
  test('merges plain JSON objects: keys unioned, nested objects merged, arrays concatenated', () => {
    const result = mergeObjects([
      ok('{"genes": ["TP53"], "meta": {"source": "a"}, "score": 1}', 0),
      ok('{"genes": ["BRCA1", "TP53"], "meta": {"year": 2020}, "organism": "human"}', 1),
    ]);
    assert.deepEqual(result.merged, {
      genes: ['TP53', 'BRCA1', 'TP53'],
      meta: { source: 'a', year: 2020 },
      score: 1,
      organism: 'human',
    });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.conflicts, []);
    assert.equal(result.mergedCount, 2);
  });

  test('conflicting scalars: the later response wins and the conflict is recorded', () => {
    const result = mergeObjects([
      ok('{"answer": "yes", "confidence": 0.5, "nested": {"x": 1}}', 3),
      ok('{"answer": "no", "confidence": 0.5, "nested": {"x": 2}}', 5),
      ok('{"nested": "flat"}', 6),
    ]);
    assert.deepEqual(result.merged, { answer: 'no', confidence: 0.5, nested: 'flat' });
    assert.deepEqual(result.conflicts, [
      { path: ['answer'], previous: 'yes', value: 'no', agentIndex: 5 },
      { path: ['nested', 'x'], previous: 1, value: 2, agentIndex: 5 },
      { path: ['nested'], previous: { x: 2 }, value: 'flat', agentIndex: 6 },
    ]);
  });

  test('reads ```json fences and bare ``` fences inside prose', () => {
    const result = mergeObjects([
      ok('Here is the result:\n```json\n{"a": 1}\n```\nHope that helps.', 0),
      ok('Sure.\n```\n{"b": 2}\n```', 1),
      ok('```python\nprint(1)\n```\n```JSON\n{"c": 3}\n```', 2),
    ]);
    assert.deepEqual(result.merged, { a: 1, b: 2, c: 3 });
    assert.deepEqual(result.errors, []);
  });

  test('finds an unfenced object inside prose', () => {
    assert.deepEqual(mergeObjects([ok('The answer is {"value": 42}. Done.')]).merged, {
      value: 42,
    });
  });

  test('lists each unparseable response with its agentIndex and reason, and merges the rest', () => {
    const responses = [
      ok('{"a": 1}', 0),
      ok('no json here', 1),
      ok('```json\n{"broken": \n```', 2),
      ok('[1, 2, 3]', 3),
      ok('', 4),
      failed('timeout after 5000 ms', 5),
    ];
    const result = mergeObjects(responses);
    assert.deepEqual(result.merged, { a: 1 });
    assert.deepEqual(
      result.errors.map((error) => [error.responseIndex, error.agentIndex]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    );
    assert.match(result.errors[0]!.reason, /no JSON object found/);
    assert.match(result.errors[1]!.reason, /invalid JSON/);
    assert.match(result.errors[2]!.reason, /array, expected an object/);
    assert.match(result.errors[3]!.reason, /empty text/);

    const withFailures = mergeObjects(responses, { includeFailures: true });
    assert.deepEqual(withFailures.errors.at(-1), {
      responseIndex: 5,
      agentIndex: 5,
      reason: 'agent failed: timeout after 5000 ms',
    });
  });

  test('nothing parseable gives an empty object', () => {
    assert.deepEqual(mergeObjects([]), {
      merged: {},
      errors: [],
      conflicts: [],
      mergedCount: 0,
    });
  });

  test('a "__proto__" key stays an ordinary key and does not change the prototype', () => {
    const result = mergeObjects([ok('{"__proto__": {"polluted": true}, "a": 1}')]);
    assert.equal(Object.getPrototypeOf(result.merged), Object.prototype);
    assert.equal((result.merged as { polluted?: boolean }).polluted, undefined);
    assert.ok(Object.hasOwn(result.merged, '__proto__'));
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });
});
