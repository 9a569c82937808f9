import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import {
  kernelLanguageEntropy,
  kernelLanguageEntropyDetails,
} from '../../src/uq/kernel-language-entropy.js';
import { assertCloseTo } from './close-to.js';

describe('kernelLanguageEntropy', () => {
  test('an orthonormal pair gives ln 2 (cosine kernel)', () => {
    const result = kernelLanguageEntropyDetails([
      [1, 0],
      [0, 1],
    ]);
    assertCloseTo(result.entropy, Math.log(2));
    assert.equal(result.eigenvalues.length, 2);
    for (const value of result.eigenvalues) assertCloseTo(value, 0.5);
  });

  test('n orthonormal vectors give ln n; identical vectors give 0', () => {
    const identity = [0, 1, 2, 3].map((row) =>
      [0, 1, 2, 3].map((column) => Number(row === column)),
    );
    assertCloseTo(kernelLanguageEntropyDetails(identity).entropy, Math.log(4));
    const same = kernelLanguageEntropyDetails([
      [2, 1, 0],
      [4, 2, 0],
      [2, 1, 0],
    ]);
    assertCloseTo(same.entropy, 0);
    assert.equal(same.eigenvalues.length, 1);
    assertCloseTo(same.eigenvalues[0]!, 1);
  });

  test('a partly similar pair matches the hand-computed value', () => {
    // cos = c → unit-trace kernel [[1, c], [c, 1]] / 2 has eigenvalues (1 ± c) / 2.
    const c = 0.6;
    const result = kernelLanguageEntropyDetails([
      [1, 0],
      [c, Math.sqrt(1 - c * c)],
    ]);
    const expected = -[(1 + c) / 2, (1 - c) / 2].reduce(
      (sum, value) => sum + value * Math.log(value),
      0,
    );
    assertCloseTo(result.entropy, expected);
    assertCloseTo(result.eigenvalues[0]!, 0.8);
    assertCloseTo(result.eigenvalues[1]!, 0.2);
  });

  test('opposite vectors keep their negative cosine: eigenvalues 0 and 1, entropy 0', () => {
    assertCloseTo(
      kernelLanguageEntropyDetails([
        [1, 0],
        [-1, 0],
      ]).entropy,
      0,
    );
  });

  test('rbf kernel: hand-computed pair, and far-apart points tend to ln n', () => {
    // ‖x − y‖² = 2, gamma 0.5 → k = e^{-1}; eigenvalues (1 ± e^{-1}) / 2.
    const k = Math.exp(-1);
    const result = kernelLanguageEntropyDetails(
      [
        [1, 0],
        [0, 1],
      ],
      { kernel: 'rbf', gamma: 0.5 },
    );
    const expected = -[(1 + k) / 2, (1 - k) / 2].reduce(
      (sum, value) => sum + value * Math.log(value),
      0,
    );
    assertCloseTo(result.entropy, expected);
    const far = kernelLanguageEntropyDetails(
      [
        [0, 0],
        [100, 0],
        [0, 100],
      ],
      { kernel: 'rbf' },
    );
    assertCloseTo(far.entropy, Math.log(3));
    // Identical points (zero vectors allowed for rbf) give 0.
    assertCloseTo(
      kernelLanguageEntropyDetails(
        [
          [0, 0],
          [0, 0],
        ],
        { kernel: 'rbf' },
      ).entropy,
      0,
    );
  });

  test('default rbf gamma is 1 / dimension', () => {
    const points = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ];
    assertCloseTo(
      kernelLanguageEntropyDetails(points, { kernel: 'rbf' }).entropy,
      kernelLanguageEntropyDetails(points, { kernel: 'rbf', gamma: 0.25 }).entropy,
    );
  });

  test('rejects bad input with InvalidOptionError', () => {
    const cases: [unknown, unknown, RegExp][] = [
      [[], {}, /must not be empty/],
      [[[1, 2], [3]], {}, /ragged/],
      [[[Number.POSITIVE_INFINITY]], {}, /must be a finite number, got Infinity/],
      [
        [
          [0, 0],
          [1, 0],
        ],
        {},
        /embeddings\[0\] is a zero vector/,
      ],
      [[[1]], { kernel: 'linear' }, /"kernel" must be "cosine" or "rbf", got "linear"/],
      [[[1]], { kernel: 'rbf', gamma: 0 }, /"gamma" must be a positive finite number, got 0/],
      [[[1]], { kernel: 'rbf', gamma: -1 }, /got -1/],
    ];
    for (const [embeddings, options, pattern] of cases) {
      assert.throws(
        () => kernelLanguageEntropyDetails(embeddings as number[][], options as object),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

test('kernelLanguageEntropy returns the entropy in nats', () => {
  const orthonormal = [
    [1, 0],
    [0, 1],
  ];
  assert.equal(typeof kernelLanguageEntropy(orthonormal), 'number');
  assertCloseTo(kernelLanguageEntropy(orthonormal), Math.log(2));
  assert.equal(
    kernelLanguageEntropy(orthonormal, { kernel: 'rbf' }),
    kernelLanguageEntropyDetails(orthonormal, { kernel: 'rbf' }).entropy,
  );
});
