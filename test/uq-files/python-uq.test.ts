/**
 * The Python original's tests/test_uq.py, ported case for case, plus the values its own numerics
 * (numpy/scipy, run by test/fixtures/python-uq/make-uq-fixtures.py) produced on the same
 * inputs, and the .npy/.npz files it wrote.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../src/errors.js';
import { kernelLanguageEntropy } from '../../src/uq/kernel-language-entropy.js';
import {
  densityMatrixFromKernel,
  kernelMatrix,
  vonNeumannEntropy,
} from '../../src/uq/kernel-matrix.js';
import { predictSemanticEntropy, trainProbe } from '../../src/uq/ridge-probe.js';
import {
  clusterEmbeddings,
  type LinkageMethod,
  semanticEntropy,
} from '../../src/uq/semantic-entropy.js';
import { readNpy, readNpyMatrix, readNpyVector, readNpz } from '../../src/uq-files/npy-file.js';
import { loadProbe, saveProbe } from '../../src/uq-files/probe-file.js';
import { fixturePath } from '../fixtures/fixture-path.js';
import { assertCloseTo } from '../uq/close-to.js';

const fixture = (name: string) => fixturePath('python-uq', name);
const reference = JSON.parse(readFileSync(fixture('uq-reference.json'), 'utf8')) as {
  probe: { ridgeAlpha: number; coef: number[]; intercept: number; predictions: number[] };
  probeAlpha1: { coef: number[]; intercept: number };
  probeAlpha0: { coef: number[]; intercept: number };
  clusters: {
    file: string;
    threshold: number;
    method: LinkageMethod;
    labels: number[];
    entropy: number;
  }[];
  semanticEntropySame: number;
  kle: {
    name: string;
    kernel: 'cosine' | 'rbf';
    embeddings: number[][];
    kernelMatrix: number[][];
    densityMatrix: number[][];
    entropy: number;
  }[];
  vonNeumannDiagonal: { p: number; entropy: number };
  densityTraceOne: number[][];
};

const assertMatrixClose = (actual: number[][], expected: number[][], tolerance = 1e-12) => {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, i) => {
    row.forEach((value, j) => {
      assertCloseTo(value, expected[i]![j]!, tolerance);
    });
  });
};

/** Partitions are equal when two labellings group the same members (scipy numbers them its way). */
const samePartition = (left: readonly number[], right: readonly number[]) => {
  const pairs = new Map<number, number>();
  const reverse = new Map<number, number>();
  return (
    left.length === right.length &&
    left.every((label, index) => {
      const other = right[index]!;
      if ((pairs.get(label) ?? other) !== other || (reverse.get(other) ?? label) !== label) {
        return false;
      }
      pairs.set(label, other);
      reverse.set(other, label);
      return true;
    })
  );
};

describe('tests/test_uq.py, ported', () => {
  test('test_semantic_entropy_single_sample: one embedding has entropy 0', () => {
    assert.equal(semanticEntropy([[0.3, -1.2, 0.5, 2, 0.1, 0.7, -0.4, 1]]), 0);
  });

  test('test_semantic_entropy_two_equal_clusters: ln 2, above one cluster', () => {
    const two = readNpyMatrix(fixture('two-clusters.npy'));
    const hTwo = semanticEntropy(two, { similarityThreshold: 0.5 });
    const same = Array.from({ length: 20 }, () => [...two[0]!]);
    const hOne = semanticEntropy(same, { similarityThreshold: 0.99 });
    assert.ok(hTwo > hOne);
    assert.ok(hTwo > 0.5 && hTwo < 1.0);
    assertCloseTo(hTwo, Math.log(2), 1e-15);
    assertCloseTo(hOne, reference.semanticEntropySame, 1e-15); // Python: -0.0, ours 0
  });

  test('test_cluster_embeddings_shape: one label per row, all >= 1', () => {
    const labels = clusterEmbeddings(readNpyMatrix(fixture('random-6x4.npy')), {
      similarityThreshold: 0.9,
    });
    assert.equal(labels.length, 6);
    assert.ok(labels.every((label) => label >= 1));
  });

  test('test_von_neumann_entropy_known: diag(p, 1 − p)', () => {
    const { p, entropy } = reference.vonNeumannDiagonal;
    const h = vonNeumannEntropy([
      [p, 0],
      [0, 1 - p],
    ]);
    assertCloseTo(h, -p * Math.log(p) - (1 - p) * Math.log(1 - p), 1e-10);
    assertCloseTo(h, entropy, 1e-15);
  });

  test('test_kernel_language_entropy_single_sample: KLE 0', () => {
    assert.equal(kernelLanguageEntropy([[0.3, -1.2, 0.5, 2, 0.1, 0.7, -0.4, 1]]), 0);
  });

  test('test_kle_two_samples: orthonormal pair gives ln 2', () => {
    const h = kernelLanguageEntropy([
      [1, 0],
      [0, 1],
    ]);
    assert.ok(h > 0.6 && h < 0.7);
  });

  test('test_density_matrix_trace_one', () => {
    const rho = densityMatrixFromKernel([
      [1, 0.5],
      [0.5, 1],
    ]);
    assertCloseTo(rho[0]![0]! + rho[1]![1]!, 1, 1e-10);
    assertMatrixClose(rho, reference.densityTraceOne, 1e-15);
  });

  test('test_train_probe_linear: the same data (seed 42) gives mse < 0.1', () => {
    const X = readNpyMatrix(fixture('hidden-states.npy'));
    const y = readNpyVector(fixture('targets.npy'));
    const probe = trainProbe(X, y, { lambda: 0.01, penalizeIntercept: true });
    const predictions = predictSemanticEntropy(probe, X);
    const mse = predictions.reduce((sum, value, i) => sum + (value - y[i]!) ** 2, 0) / y.length;
    assert.ok(mse < 0.1);
  });

  test('test_save_load_probe: save, load, same predictions (and metadata)', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-uq-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const probe = {
      ...trainProbe([[1], [2], [3]], [1, 2, 4]),
      weights: [1, -0.5, 0.2],
      intercept: 0.3,
      metadata: { version: 1 },
    };
    const path = join(directory, 'probe.json');
    saveProbe(probe, path);
    const loaded = loadProbe(path);
    assert.deepEqual(loaded.weights, probe.weights);
    assert.equal(loaded.metadata?.version, 1);
    const X = [
      [0.1, 0.2, 0.3],
      [-1, 0, 2],
    ];
    assert.deepEqual(predictSemanticEntropy(loaded, X), predictSemanticEntropy(probe, X));
  });

  test('test_predict_semantic_entropy_1d: one row gives one value', () => {
    const probe = { ...trainProbe([[1, 2]], [0]), weights: [0.1, 0.2], intercept: 0 };
    assertCloseTo(predictSemanticEntropy(probe, [1, 2]), 0.5, 1e-10);
  });
});

describe('equal to the Python numerics on the same inputs', () => {
  test('trainProbe with penalizeIntercept is the Python train_probe (alpha 0.01, 1, 0)', () => {
    const X = readNpyMatrix(fixture('hidden-states.npy'));
    const y = readNpyVector(fixture('targets.npy'));
    for (const [lambda, expected] of [
      [0.01, reference.probe],
      [1, reference.probeAlpha1],
      [0, reference.probeAlpha0],
    ] as const) {
      const probe = trainProbe(X, y, { lambda, penalizeIntercept: true });
      probe.weights.forEach((weight, i) => {
        assertCloseTo(weight, expected.coef[i]!, 1e-10);
      });
      assertCloseTo(probe.intercept, expected.intercept, 1e-10);
    }
  });

  test('clusterEmbeddings: the same partitions as scipy for every linkage and threshold', () => {
    for (const expected of reference.clusters) {
      const embeddings = readNpyMatrix(fixture(expected.file));
      const options = { similarityThreshold: expected.threshold, linkageMethod: expected.method };
      const labels = clusterEmbeddings(embeddings, options);
      const label = `${expected.file} ${expected.method} ${expected.threshold}`;
      assert.ok(
        samePartition(labels, expected.labels),
        `${label}: ${labels} vs ${expected.labels}`,
      );
      assertCloseTo(semanticEntropy(embeddings, options), expected.entropy, 1e-12);
    }
    assert.throws(
      () => semanticEntropy([[1]], { linkageMethod: 'ward' as never }),
      /"linkageMethod" must be "single", "complete" or "average", got "ward"/,
    );
  });

  test('kernelMatrix, densityMatrixFromKernel and kernelLanguageEntropy as kle.py', () => {
    for (const expected of reference.kle) {
      const K = kernelMatrix(expected.embeddings, { kernel: expected.kernel });
      assertMatrixClose(K, expected.kernelMatrix, 1e-12);
      const rho = densityMatrixFromKernel(K);
      assertMatrixClose(rho, expected.densityMatrix, 1e-12);
      // Python raises eigenvalues below 1e-10 to 1e-10, which adds 1e-10·ln(1e10) ≈ 2.3e-9 nats
      // per zero eigenvalue; kernelLanguageEntropy drops them (identical answers give exactly 0).
      const rank = Math.min(expected.embeddings.length, expected.embeddings[0]!.length);
      const zeroEigenvalues = expected.embeddings.length - rank;
      assertCloseTo(
        kernelLanguageEntropy(expected.embeddings, { kernel: expected.kernel }),
        expected.entropy,
        1e-12 + zeroEigenvalues * 2.4e-9,
      );
      assertCloseTo(vonNeumannEntropy(rho), expected.entropy, 1e-12);
    }
  });
});

describe("the Python original's files", () => {
  test('loadProbe reads its .npz probe and the .npz.json metadata beside it', () => {
    const probe = loadProbe(fixture('probe.npz'));
    assert.equal(probe.penalizeIntercept, true);
    assert.equal(probe.lambda, 0.01);
    assert.deepEqual(probe.metadata, { ridge_alpha: 0.01, n_samples: 20 });
    assert.deepEqual(probe.weights, reference.probe.coef);
    assert.equal(probe.intercept, reference.probe.intercept);
    const predictions = predictSemanticEntropy(probe, readNpyMatrix(fixture('hidden-states.npy')));
    predictions.forEach((value, i) => {
      assertCloseTo(value, reference.probe.predictions[i]!, 1e-12);
    });
    const bare = loadProbe(fixture('probe-without-metadata.npz'));
    assert.equal(bare.lambda, null);
    assert.equal(bare.metadata, undefined);
    assert.deepEqual(loadProbe(fixture('compressed-probe.npz')).weights, reference.probe.coef);
  });

  test('a loaded Python probe saves as JSON and loads back unchanged', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-uq-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const probe = loadProbe(fixture('probe.npz'));
    saveProbe(probe, join(directory, 'probe.json'));
    assert.deepEqual(loadProbe(join(directory, 'probe.json')), probe);
    // An .npz under another name is still recognised by its bytes.
    cpSync(fixture('probe.npz'), join(directory, 'renamed.bin'));
    assert.deepEqual(loadProbe(join(directory, 'renamed.bin')).weights, probe.weights);
  });

  test('readNpy: float64, float32, int64 and Fortran order, row-major', () => {
    const X = readNpyMatrix(fixture('hidden-states.npy'));
    assert.equal(X.length, 20);
    assert.equal(X[0]!.length, 5);
    const float32 = readNpy(fixture('float32.npy'));
    assert.equal(float32.dtype, 'f4');
    assert.deepEqual(float32.shape, [3, 5]);
    float32.data.forEach((value, i) => {
      assertCloseTo(value, X[Math.floor(i / 5)]![i % 5]!, 1e-6);
    });
    assert.deepEqual(
      readNpyMatrix(fixture('fortran.npy')),
      X.slice(0, 4).map((row) => row.slice(0, 3)),
    );
    assert.deepEqual(readNpyMatrix(fixture('int64.npy')), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    assert.deepEqual(Object.keys(readNpz(fixture('probe.npz'))).sort(), ['coef', 'intercept']);
  });

  test('bad files are InvalidOptionErrors naming the file', (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'aurora-uq-'));
    t.after(() => rmSync(directory, { recursive: true, force: true }));
    const cases: [() => unknown, RegExp][] = [
      [() => readNpy(fixture('big-endian.npy')), /big-endian arrays are not supported/],
      [() => readNpy(fixture('probe.npz')), /probe\.npz": not a numeric \.npy array/],
      [() => readNpz(fixture('hidden-states.npy')), /is not an \.npz \(zip\) archive/],
      [() => readNpyVector(fixture('hidden-states.npy')), /shape \(20, 5\), expected 1-D/],
      [() => readNpyMatrix(fixture('targets.npy')), /shape \(20\), expected 2-D/],
      [() => readNpy(join(directory, 'missing.npy')), /cannot read ".*missing\.npy": no such file/],
      [
        () =>
          loadProbe(
            fixture('compressed-probe.npz')
              .replace('compressed-probe', 'two-clusters')
              .replace('.npz', '.npy'),
          ),
        /neither JSON nor \.npz/,
      ],
    ];
    for (const [run, pattern] of cases) {
      assert.throws(run, (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError, String(error));
        assert.match(error.message, pattern);
        return true;
      });
    }
  });
});
