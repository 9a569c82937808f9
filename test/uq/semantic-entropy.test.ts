import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { semanticEntropy, semanticEntropyDetails } from '../../src/uq/semantic-entropy.js';
import { assertCloseTo } from './close-to.js';

describe('semanticEntropy', () => {
  test('two equal clusters give ln 2', () => {
    const result = semanticEntropyDetails([
      [1, 0, 0],
      [0.99, 0.05, 0],
      [0, 1, 0],
      [0.02, 1, 0.01],
    ]);
    assertCloseTo(result.entropy, Math.log(2));
    assert.deepEqual(result.clusters, [0, 0, 1, 1]);
    assert.deepEqual(result.clusterSizes, [2, 2]);
  });

  test('identical answers give 0, also at threshold 1 and with different lengths', () => {
    const result = semanticEntropyDetails(
      [
        [0.3, 0.1, 0.7],
        [0.6, 0.2, 1.4],
        [0.3, 0.1, 0.7],
      ],
      { similarityThreshold: 1 },
    );
    assert.equal(result.entropy, 0);
    assert.deepEqual(result.clusters, [0, 0, 0]);
    assert.deepEqual(result.clusterSizes, [3]);
  });

  test('n mutually orthogonal answers give ln n', () => {
    const identity = [0, 1, 2, 3, 4].map((row) =>
      [0, 1, 2, 3, 4].map((column) => Number(row === column)),
    );
    const result = semanticEntropyDetails(identity);
    assertCloseTo(result.entropy, Math.log(5));
    assert.deepEqual(result.clusters, [0, 1, 2, 3, 4]);
    assert.deepEqual(result.clusterSizes, [1, 1, 1, 1, 1]);
  });

  test('a single answer has entropy 0', () => {
    assert.deepEqual(semanticEntropyDetails([[1, 2]]), {
      entropy: 0,
      clusters: [0],
      clusterSizes: [1],
    });
  });

  test('uneven clusters: entropy of (3/4, 1/4); labels by first appearance', () => {
    const result = semanticEntropyDetails([
      [0, 1],
      [1, 0],
      [1, 0.01],
      [1, -0.01],
    ]);
    assert.deepEqual(result.clusters, [0, 1, 1, 1]);
    assert.deepEqual(result.clusterSizes, [1, 3]);
    assertCloseTo(result.entropy, -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)));
  });

  test('average linkage, not single linkage: a chain does not merge into one cluster', () => {
    // Unit vectors at 0°, 19°, 40°: cos 19° ≈ 0.946 and cos 21° ≈ 0.934 are both ≥ 0.9,
    // cos 40° ≈ 0.766. The closest pair (0°, 19°) merges first; the average similarity
    // of 40° to it is (0.934 + 0.766) / 2 ≈ 0.850 < 0.9, so it stays apart (single
    // linkage would merge all three through the 0.934 link).
    const at = (degrees: number) => [
      Math.cos((degrees * Math.PI) / 180),
      Math.sin((degrees * Math.PI) / 180),
    ];
    const result = semanticEntropyDetails([at(0), at(19), at(40)], { similarityThreshold: 0.9 });
    assert.deepEqual(result.clusterSizes, [2, 1]);
    assert.deepEqual(result.clusters, [0, 0, 1]);
    // At 0.8 the average (0.850) merges everything; complete linkage (0.766) would not.
    assert.deepEqual(
      semanticEntropyDetails([at(0), at(19), at(40)], { similarityThreshold: 0.8 }).clusterSizes,
      [3],
    );
  });

  test('the threshold decides: the same pair merges at 0.5 and not at 0.9', () => {
    const pair = [
      [1, 0],
      [1, 1],
    ]; // cos = 0.7071
    assert.deepEqual(semanticEntropyDetails(pair, { similarityThreshold: 0.5 }).clusterSizes, [2]);
    assertCloseTo(semanticEntropyDetails(pair, { similarityThreshold: 0.9 }).entropy, Math.log(2));
  });

  test('rejects bad input with InvalidOptionError', () => {
    const cases: [unknown, unknown, RegExp][] = [
      [[], {}, /embeddings must not be empty/],
      ['x', {}, /embeddings must be an array/],
      [[[1, 0], [1]], {}, /embeddings\[1\] has 1 dimensions but embeddings\[0\] has 2/],
      [[[1, Number.NaN]], {}, /embeddings\[0\]\[1\] must be a finite number, got NaN/],
      [[[]], {}, /embeddings\[0\] is empty/],
      [
        [
          [1, 0],
          [0, 0],
        ],
        {},
        /embeddings\[1\] is a zero vector; cosine similarity is undefined/,
      ],
      [
        [[1]],
        { similarityThreshold: 0 },
        /"similarityThreshold" must be a number in \(0, 1\], got 0/,
      ],
      [[[1]], { similarityThreshold: 1.5 }, /got 1.5/],
      [[[1]], { similarityThreshold: '0.9' }, /got "0.9"/],
    ];
    for (const [embeddings, options, pattern] of cases) {
      assert.throws(
        () => semanticEntropyDetails(embeddings as number[][], options as object),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.match(error.message, pattern);
          return true;
        },
      );
    }
  });
});

test('semanticEntropy handles long embeddings (200 000 dimensions)', () => {
  const long = (hot: number) =>
    Array.from({ length: 200_000 }, (_, index) => Number(index === hot));
  assertCloseTo(semanticEntropyDetails([long(0), long(0), long(1), long(1)]).entropy, Math.log(2));
});

test('semanticEntropy returns the entropy in nats, as the Python original does', () => {
  const pairs = [
    [1, 0],
    [1, 0],
    [0, 1],
    [0, 1],
  ];
  assert.equal(typeof semanticEntropy(pairs), 'number');
  assertCloseTo(semanticEntropy(pairs), Math.log(2));
  assert.equal(semanticEntropy(pairs), semanticEntropyDetails(pairs).entropy);
  assert.equal(semanticEntropy([[3, 4]]), 0);
});
