import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { loadProbe, saveProbe } from '../../src/uq/probe-file.js';
import { predictSemanticEntropy, trainProbe } from '../../src/uq/ridge-probe.js';
import { assertCloseTo } from './close-to.js';

// Deterministic pseudo-random features (a linear congruential generator).
function features(rows: number, columns: number): number[][] {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: rows }, () => Array.from({ length: columns }, next));
}

const TRUE_WEIGHTS = [2, -3, 0.5];
const TRUE_INTERCEPT = 1.25;
const linearMap = (row: number[]) =>
  TRUE_WEIGHTS.reduce((sum, weight, index) => sum + weight * row[index]!, TRUE_INTERCEPT);

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

describe('saveProbe / loadProbe', () => {
  test('round-trips a probe through a JSON file', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-probe-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const inputs = features(12, 3);
    const probe = trainProbe(inputs, inputs.map(linearMap), { lambda: 0.5 });
    const path = join(directory, 'probe.json');
    saveProbe(probe, path);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).kind, 'ridge-probe');
    const loaded = loadProbe(path);
    assert.deepEqual(loaded, probe);
    assert.deepEqual(predictSemanticEntropy(loaded, inputs), predictSemanticEntropy(probe, inputs));
  });

  test('a bad file gives a clear InvalidOptionError naming the file and the problem', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-probe-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const write = (name: string, text: string) => {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };
    const valid = {
      kind: 'ridge-probe',
      version: 1,
      weights: [1],
      intercept: 0,
      lambda: 1,
      fitIntercept: true,
    };
    const cases: [string, RegExp][] = [
      [join(directory, 'missing.json'), /cannot read probe file ".*missing\.json": no such file/],
      [write('garbage.json', '{ not json'), /probe file ".*garbage\.json" is not valid JSON/],
      [write('array.json', '[1, 2]'), /expected a probe object, got \[1,2\]/],
      [
        write('kind.json', JSON.stringify({ ...valid, kind: 'other' })),
        /field "kind" must be "ridge-probe"/,
      ],
      [
        write('weights.json', JSON.stringify({ ...valid, weights: ['a'] })),
        /field "weights" must be/,
      ],
      [
        write('intercept.json', JSON.stringify({ ...valid, intercept: null })),
        /field "intercept" must be a finite number, got null/,
      ],
      [
        write('version.json', JSON.stringify({ ...valid, version: 2 })),
        /field "version" must be 1, got 2/,
      ],
    ];
    for (const [path, pattern] of cases) {
      assert.throws(
        () => loadProbe(path),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, /^loadProbe: /);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
    assert.deepEqual(loadProbe(write('ok.json', JSON.stringify(valid))), valid);
    assert.throws(
      () => saveProbe({ weights: [1] } as never, join(directory, 'x.json')),
      /saveProbe: probe: field "kind"/,
    );
    assert.throws(
      () => saveProbe(valid as never, join(directory, 'no-such-dir', 'x.json')),
      /saveProbe: cannot write probe file/,
    );
  });
});
