import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyFailure,
  FAILURE_CAUSES,
  failureReport,
} from '../../src/aggregators/failure-report.js';
import { InvalidOptionError } from '../../src/errors.js';
import { contextOverflow } from '../../src/mock/vllm-errors.js';
import { FAILURE_KINDS } from '../../src/pool/failure-kind.js';
import { failed, ok } from './responses.js';

describe('failureReport', () => {
  test('counts and groups failures by failureKind', () => {
    const responses = [
      ok('fine', 0),
      failed('timeout after 300000 ms', 1, 'timeout'),
      failed('cannot connect to compute-003:8000 (ECONNREFUSED)', 2, 'connect'),
      failed('HTTP 500: internal error', 3, 'http'),
      failed('the model crashed', 4, 'agent-error'),
      failed("This model's maximum context length is 8192 tokens.", 5, 'context-overflow'),
      failed('answer was not JSON', 6, 'bad-response'),
      failed('aborted', 7, 'aborted'),
      ok('also fine', 8),
    ];
    const report = failureReport(responses);
    assert.equal(report.total, 9);
    assert.equal(report.successCount, 2);
    assert.equal(report.failureCount, 7);
    assert.deepEqual(
      report.failures.map((failure) => failure.agentIndex),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(report.failures[0], {
      responseIndex: 1,
      agentIndex: 1,
      globalIndex: 1,
      error: 'timeout after 300000 ms',
      cause: 'timeout',
      failureKind: 'timeout',
    });
    const agentsOf = (cause: keyof typeof report.byCause) =>
      report.byCause[cause].map((failure) => failure.agentIndex);
    assert.deepEqual(agentsOf('timeout'), [1]);
    // One vocabulary: the cause is the response's own failureKind.
    assert.deepEqual(agentsOf('connect'), [2]);
    assert.deepEqual(agentsOf('http'), [3]);
    assert.deepEqual(agentsOf('agent-error'), [4]);
    assert.deepEqual(agentsOf('context-overflow'), [5]);
    assert.deepEqual(agentsOf('bad-response'), [6]);
    assert.deepEqual(agentsOf('aborted'), [7]);
    assert.deepEqual(agentsOf('unknown'), []);
  });

  test('classifies from the error text when there is no failureKind', () => {
    const cases: [string, string][] = [
      ['timeout after 120000 ms', 'timeout'],
      ['request timed out', 'timeout'],
      ['connect ECONNREFUSED 127.0.0.1:8001', 'connect'],
      ['cannot connect to host-7:8000', 'connect'],
      ['getaddrinfo ENOTFOUND compute-009', 'connect'],
      ['HTTP 503 Service Unavailable', 'agent-error'],
      ['agent returned status 500', 'agent-error'],
      [
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (HTTP 400)",
        'context-overflow',
      ],
      [`HTTP 400: ${contextOverflow('legacy', 8192, 9000, 512).message}`, 'context-overflow'],
      [`HTTP 400: ${contextOverflow('current', 8192, 9000, 512).message}`, 'context-overflow'],
      ['something odd', 'unknown'],
      ['', 'unknown'],
    ];
    for (const [error, cause] of cases) {
      assert.equal(classifyFailure({ error }), cause, error);
    }
    const report = failureReport(cases.map(([error], index) => failed(error, index)));
    assert.equal(report.byCause.connect.length, 3);
    assert.equal(report.byCause['context-overflow'].length, 3);
  });

  test('no failures: every group present and empty', () => {
    const report = failureReport([ok('a'), ok('b')]);
    assert.deepEqual(report, {
      total: 2,
      successCount: 2,
      failureCount: 0,
      failures: [],
      byCause: Object.fromEntries(FAILURE_CAUSES.map((cause) => [cause, []])),
    });
    assert.equal(failureReport([]).total, 0);
  });

  test('rejects a non-array', () => {
    assert.throws(() => failureReport(undefined as never), InvalidOptionError);
  });
});

describe('the failure vocabulary', () => {
  test('every failure kind is a cause of its own, with a meaning; unknown comes last', () => {
    assert.deepEqual(FAILURE_CAUSES, [...Object.keys(FAILURE_KINDS), 'unknown']);
    for (const [kind, info] of Object.entries(FAILURE_KINDS)) {
      assert.equal(classifyFailure({ error: 'whatever', failureKind: kind as never }), kind);
      assert.ok(info.meaning.length > 10, kind);
    }
    assert.equal(FAILURE_KINDS['context-overflow'].retryHelps, false);
    assert.equal(FAILURE_KINDS['invalid-request'].retryHelps, false);
    assert.equal(FAILURE_KINDS.timeout.retryHelps, true);
  });
});
