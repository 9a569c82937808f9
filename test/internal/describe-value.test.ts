import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEndpoint } from '../../src/hostfile/agent-endpoint.js';
import { describeValue } from '../../src/internal/describe-value.js';
import { mapGather } from '../../src/patterns/map-gather.js';
import { VLLMPool } from '../../src/pool/vllm-pool.js';

describe('describeValue', () => {
  test('shows strings, numbers, JSON values with their type', () => {
    assert.equal(describeValue('x'), '"x"');
    assert.equal(describeValue(3), '3');
    assert.equal(describeValue(undefined), 'undefined');
    assert.equal(describeValue(null), 'null (object)');
    assert.equal(describeValue([1, 2]), '[1,2] (array)');
    assert.equal(describeValue({ a: 1 }), '{"a":1} (object)');
  });

  test('names what JSON cannot show instead of calling it undefined', () => {
    assert.equal(
      describeValue((item: string) => item),
      'a function',
    );
    assert.equal(describeValue(Symbol('s')), 'a symbol');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.equal(describeValue(cycle), 'an object');
  });

  test('a pattern given a function where a template belongs says so', async () => {
    const pool = new VLLMPool({ endpoints: [createEndpoint('127.0.0.1', 9)], model: 'm' });
    try {
      await assert.rejects(
        mapGather(pool, ['a'], ((item: string) => item) as unknown as string),
        /mapGather: template must be a string, got a function$/,
      );
    } finally {
      await pool.close();
    }
  });
});
