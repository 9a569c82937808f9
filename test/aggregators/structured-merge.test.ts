import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { structuredMerge } from '../../src/aggregators/structured-merge.js';
import { InvalidOptionError } from '../../src/errors.js';
import { failed, ok } from './responses.js';

describe('structuredMerge', () => {
  test('arrays extend the flat list, every other JSON value is appended', () => {
    const result = structuredMerge([
      ok('[{"gene": "TP53"}, {"gene": "BRCA1"}]', 0),
      ok('{"gene": "EGFR"}', 1),
      ok('[[1, 2]]', 2),
      ok('"text"', 3),
    ]);
    assert.deepEqual(result.merged, [
      { gene: 'TP53' },
      { gene: 'BRCA1' },
      { gene: 'EGFR' },
      [1, 2],
      'text',
    ]);
    assert.deepEqual(result.errors, []);
  });

  test('reads the first ```json or untagged fence when the whole text is not JSON', () => {
    const result = structuredMerge([
      ok('Here you go:\n```json\n[1, 2]\n```\n```json\n[3]\n```', 0),
      ok('```\n{"a": 1}\n```', 1),
      ok('```python\nprint(1)\n```', 2),
      ok('```json\n[1,\n```', 3),
    ]);
    assert.deepEqual(result.merged, [1, 2, { a: 1 }]);
    assert.deepEqual(
      result.errors.map((error) => error.agentIndex),
      [2, 3],
    );
    assert.match(result.errors[1]!.error, /^fenced block: /);
  });

  test('errors name the response and the parser message; failures only with includeFailures', () => {
    const responses = [ok('not json', 4), failed('timeout after 5000 ms', 5), ok('[1]', 6)];
    const skipped = structuredMerge(responses);
    assert.deepEqual(skipped.merged, [1]);
    assert.equal(skipped.errors.length, 1);
    assert.equal(skipped.errors[0]!.responseIndex, 0);
    assert.equal(skipped.errors[0]!.agentIndex, 4);
    assert.match(skipped.errors[0]!.error, /JSON/);
    const included = structuredMerge(responses, { includeFailures: true });
    assert.deepEqual(included.errors[1], {
      responseIndex: 1,
      agentIndex: 5,
      error: 'agent failed: timeout after 5000 ms',
    });
  });

  test('a "__proto__" key stays an own key of its object', () => {
    const [value] = structuredMerge([ok('{"__proto__": {"polluted": true}}')]).merged as object[];
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.ok(Object.hasOwn(value as object, '__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('rejects bad arguments', () => {
    assert.throws(() => structuredMerge('x' as never), InvalidOptionError);
  });
});
