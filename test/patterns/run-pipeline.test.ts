import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbortedError, InvalidOptionError, PipelineStageError } from '../../src/errors.js';
import {
  type PipelineStage,
  runPipeline,
  runPipelineDetails,
} from '../../src/patterns/run-pipeline.js';
import { FakePool } from './fake-pool.js';

describe('runPipeline', () => {
  test('each stage gets {input} from the previous one; default transform joins successes with \\n', async () => {
    const pool = new FakePool({
      size: 4,
      answer: (index, prompt) =>
        index === 1 && prompt.startsWith('draft') ? { error: 'boom' } : `${index}[${prompt}]`,
    });
    const result = await runPipelineDetails(
      pool,
      [
        { name: 'draft', promptTemplate: 'draft {input}', nAgents: 3 },
        { name: 'edit', promptTemplate: 'edit {input}', nAgents: 1 },
      ],
      'topic',
    );
    assert.equal(result.success, true);
    assert.equal(result.stages[0]?.output, '0[draft topic]\n2[draft topic]');
    assert.equal(result.output, '0[edit 0[draft topic]\n2[draft topic]]');
    assert.equal(result.stages[0]?.responses.length, 3);
    assert.equal(result.stages[0]?.responses[1]?.success, false, 'failures stay visible');
    assert.deepEqual(
      pool.calls.map((call) => call.globalIndex),
      [0, 1, 2, 0],
      'reuseAgents: every stage starts at agent 0',
    );
  });

  test('outputFilter and outputTransform shape the next input; non-string input is JSON', async () => {
    const pool = new FakePool({ size: 3, answer: (index, prompt) => `${index}:${prompt}` });
    const stages: PipelineStage[] = [
      {
        name: 'count',
        promptTemplate: 'count {input}',
        nAgents: 3,
        outputFilter: (response) => response.agentIndex !== 0,
        outputTransform: (responses) => ({
          kept: responses.map((response) => response.agentIndex),
        }),
      },
      { name: 'use', promptTemplate: 'use {input}', nAgents: 1 },
    ];
    const result = await runPipelineDetails(pool, stages, ['a', 'b']);
    assert.equal(pool.calls[0]?.prompt, 'count ["a","b"]');
    assert.deepEqual(result.stages[0]?.output, { kept: [1, 2] });
    assert.equal(result.output, '0:use {"kept":[1,2]}');
  });

  test('reuseAgents false gives each stage its own agents', async () => {
    const pool = new FakePool({ size: 5 });
    await runPipeline(
      pool,
      [
        { name: 'a', promptTemplate: '{input}', nAgents: 2 },
        { name: 'b', promptTemplate: '{input}', nAgents: 3 },
      ],
      'x',
      { reuseAgents: false },
    );
    assert.deepEqual(
      pool.calls.map((call) => call.globalIndex),
      [0, 1, 2, 3, 4],
    );
  });

  test('not enough agents is an error before any call', async () => {
    const pool = new FakePool({ size: 4 });
    const stages = [
      { name: 'a', promptTemplate: '{input}', nAgents: 3 },
      { name: 'b', promptTemplate: '{input}', nAgents: 2 },
    ];
    await assert.rejects(
      runPipeline(pool, stages, 'x', { reuseAgents: false }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError);
        assert.match(error.message, /need 5 agents in total, the pool has 4/);
        return true;
      },
    );
    await assert.rejects(
      runPipeline(pool, [{ name: 'a', promptTemplate: '', nAgents: 5 }], 'x'),
      /stages\[0\]\.nAgents \(5\) exceeds the pool size \(4\)/,
    );
    await assert.rejects(runPipeline(pool, [], 'x'), /stages must be a non-empty array/);
    await assert.rejects(
      runPipeline(pool, [{ name: 'a', promptTemplate: 'p', nAgents: 0 }], 'x'),
      /stages\[0\]\.nAgents must be a positive integer, got 0/,
    );
    await assert.rejects(
      runPipeline(pool, stages, 'x', { reuseAgents: 'no' as unknown as boolean }),
      /reuseAgents must be a boolean/,
    );
    assert.equal(pool.calls.length, 0);
  });

  test('a stage where every agent fails stops the pipeline instead of passing an empty input', async () => {
    const pool = new FakePool({
      size: 2,
      answer: (_index, prompt) =>
        prompt.startsWith('second')
          ? { error: 'context overflow', failureKind: 'context-overflow' }
          : prompt,
    });
    const result = await runPipelineDetails(
      pool,
      [
        { name: 'first', promptTemplate: 'first {input}', nAgents: 2 },
        { name: 'second', promptTemplate: 'second {input}', nAgents: 2 },
        { name: 'third', promptTemplate: 'third {input}', nAgents: 1 },
      ],
      'x',
    );
    assert.equal(result.success, false);
    assert.equal(result.output, undefined);
    assert.match(
      result.error ?? '',
      /stage "second": none of its 2 agent\(s\) succeeded \(first error: context overflow\)/,
    );
    assert.equal(result.stages.length, 2);
    assert.equal(pool.calls.length, 4, 'the third stage is never run');
  });

  test('abort stops before the next stage', async () => {
    const pool = new FakePool({ size: 1, manual: true });
    const controller = new AbortController();
    const done = runPipelineDetails(
      pool,
      [
        { name: 'one', promptTemplate: '{input}', nAgents: 1 },
        { name: 'two', promptTemplate: '{input}', nAgents: 1 },
      ],
      'x',
      { signal: controller.signal },
    );
    const call = await pool.call(0);
    controller.abort();
    call.respond('late');
    const result = await done;
    assert.equal(result.success, false);
    assert.equal(result.error, 'aborted during stage "one"');
    assert.equal(result.stages[0]?.responses[0]?.failureKind, 'aborted');
    assert.equal(pool.calls.length, 1);
  });

  test('runPipeline resolves to the last output itself; a dead stage or an abort rejects', async () => {
    const pool = new FakePool({ size: 2, answer: (index, prompt) => `${index}[${prompt}]` });
    const stages: PipelineStage[] = [
      { name: 'one', promptTemplate: 'a {input}', nAgents: 1 },
      { name: 'two', promptTemplate: 'b {input}', nAgents: 1, outputTransform: (r) => r.length },
    ];
    assert.equal(await runPipeline(pool, stages, 'x'), 1);
    const dead = new FakePool({
      size: 2,
      answer: () => ({ error: 'gone', failureKind: 'connect' }),
    });
    await assert.rejects(runPipeline(dead, stages, 'x'), (error: unknown) => {
      assert.ok(error instanceof PipelineStageError);
      assert.equal(error.stage, 'one');
      assert.match(error.message, /^runPipeline: stage "one": none of its 1 agent\(s\) succeeded/);
      return true;
    });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      runPipeline(pool, stages, 'x', { signal: controller.signal }),
      AbortedError,
    );
  });
});
