import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { predictSemanticEntropy, trainProbe } from '../../src/uq/ridge-probe.js';
import { assertCloseTo } from './close-to.js';
import { features, linearMap, TRUE_INTERCEPT, TRUE_WEIGHTS } from './linear-data.js';

describe('trainProbe', () => {
  test('recovers a known linear map and its intercept with a small lambda', () => {
    const inputs = features(30, 3);
    const probe = trainProbe(inputs, inputs.map(linearMap), { lambda: 1e-10 });
    probe.weights.forEach((weight, index) => {
      assertCloseTo(weight, TRUE_WEIGHTS[index]!, 1e-6);
    });
    assertCloseTo(probe.intercept, TRUE_INTERCEPT, 1e-6);
    assert.equal(probe.kind, 'ridge-probe');
    assert.equal(probe.fitIntercept, true);
    assert.equal(probe.lambda, 1e-10);
    const unseen = [0.1, 0.2, -0.3];
    assertCloseTo(predictSemanticEntropy(probe, unseen), linearMap(unseen), 1e-6);
  });

  test('matches hand-computed ridge solutions', () => {
    // No intercept: w = Σxy / (Σx² + λ) = 10 / 6.
    const through0 = trainProbe([[1], [2]], [2, 4], { lambda: 1, fitIntercept: false });
    assertCloseTo(through0.weights[0]!, 10 / 6);
    assert.equal(through0.intercept, 0);
    // Intercept, unpenalised: centred x = [-1, 1], y = [-2, 2] → w = 4 / (2 + 2) = 1, b = 3 − 1·1 = 2.
    const withIntercept = trainProbe([[0], [2]], [1, 5], { lambda: 2 });
    assertCloseTo(withIntercept.weights[0]!, 1);
    assertCloseTo(withIntercept.intercept, 2);
  });

  test('the default lambda is 1', () => {
    const inputs = features(10, 2);
    const targets = inputs.map((row) => row[0]! - row[1]!);
    assert.deepEqual(trainProbe(inputs, targets), trainProbe(inputs, targets, { lambda: 1 }));
    assert.equal(trainProbe(inputs, targets).lambda, 1);
  });

  test('lambda 0 on a singular system gives the minimum-norm least-squares fit', () => {
    const inputs = [1, 2, 3, 4].map((x) => [x, x]);
    const probe = trainProbe(inputs, [2, 4, 6, 8], { lambda: 0, fitIntercept: false });
    assertCloseTo(probe.weights[0]!, 1);
    assertCloseTo(probe.weights[1]!, 1);
  });

  test('does not modify its inputs', () => {
    const inputs = [
      [1, 2],
      [3, 5],
    ];
    const targets = [1, 2];
    trainProbe(inputs, targets);
    assert.deepEqual(inputs, [
      [1, 2],
      [3, 5],
    ]);
    assert.deepEqual(targets, [1, 2]);
  });

  test('rejects bad input with InvalidOptionError', () => {
    const cases: [unknown, unknown, unknown, RegExp][] = [
      [[], [], {}, /features must not be empty/],
      [[[1, 2], [3]], [1, 2], {}, /features\[1\] has 1 dimensions/],
      [[[1], [Number.NaN]], [1, 2], {}, /features\[1\]\[0\] must be a finite number, got NaN/],
      [[[1], [2]], [1], {}, /one number per feature row \(2\), got 1 targets/],
      [[[1], [2]], [1, Number.NaN], {}, /targets\[1\] must be a finite number, got NaN/],
      [[[1]], [1], { lambda: -1 }, /"lambda" must be a finite number >= 0, got -1/],
      [[[1]], [1], { fitIntercept: 'yes' }, /"fitIntercept" must be a boolean, got "yes"/],
    ];
    for (const [inputs, targets, options, pattern] of cases) {
      assert.throws(
        () => trainProbe(inputs as number[][], targets as number[], options as object),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

describe('predictSemanticEntropy', () => {
  const probe = trainProbe([[0], [2]], [1, 5], { lambda: 2 }); // y = x + 2

  test('a list of vectors gives a list; one vector gives a number; [] gives []', () => {
    const batch = predictSemanticEntropy(probe, [[0], [1], [-2]]);
    assert.equal(batch.length, 3);
    [2, 3, 0].forEach((expected, index) => {
      assertCloseTo(batch[index]!, expected);
    });
    assertCloseTo(predictSemanticEntropy(probe, [4]), 6);
    assert.deepEqual(predictSemanticEntropy(probe, [] as number[][]), []);
  });

  test('rejects a dimension mismatch and a malformed probe', () => {
    assert.throws(
      () => predictSemanticEntropy(probe, [1, 2]),
      /features have 2 dimensions but the probe has 1 weights/,
    );
    assert.throws(() => predictSemanticEntropy(probe, [[1], [1, 2]]), /ragged/);
    assert.throws(
      () => predictSemanticEntropy({ ...probe, weights: [] }, [1]),
      /field "weights" must be a non-empty array of finite numbers/,
    );
  });
});
