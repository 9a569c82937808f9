/**
 * The building blocks of kernel language entropy under the Python original's names
 * (`kernel_matrix`, `density_matrix_from_kernel`, `von_neumann_entropy` in aurora_swarm/uq/kle.py),
 * with its numerics, for scripts that call them one by one.
 */

import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors, cosineSimilarityMatrix, rbfKernelMatrix } from './embedding-vectors.js';
import { DEFAULT_KERNEL, type KernelName } from './kernel-language-entropy.js';
import { mlMatrix } from './ml-matrix.js';

/** Eigenvalues below this are clamped to it by {@link vonNeumannEntropy}, as in the Python original. */
export const DEFAULT_EIGENVALUE_FLOOR = 1e-10;

/** Options of {@link kernelMatrix}. */
export interface KernelMatrixOptions {
  /** `cosine` or `rbf`. @default 'cosine' */
  kernel?: KernelName;
  /** RBF width, a positive number. @default 1 / dimension */
  gamma?: number;
}

/**
 * The kernel matrix of the embeddings: `cosine` → pairwise cosine similarities (clipped to
 * [−1, 1]), `rbf` → `exp(−gamma ‖x_i − x_j‖²)`. Python: `kernel_matrix(embeddings, kernel, gamma=)`.
 * @throws {InvalidOptionError} for empty, ragged or non-finite input, a zero vector with the
 *   cosine kernel (Python silently gives it a zero row), an unknown kernel or a bad gamma.
 * @example kernelMatrix([[1, 0], [0, 1]]) // [[1, 0], [0, 1]]
 */
export function kernelMatrix(
  embeddings: readonly (readonly number[])[],
  options: KernelMatrixOptions = {},
): number[][] {
  const name = 'kernelMatrix';
  const dimension = assertVectors(name, 'embeddings', embeddings);
  const kernel = options?.kernel ?? DEFAULT_KERNEL;
  if (kernel !== 'cosine' && kernel !== 'rbf') {
    throw new InvalidOptionError(
      `${name}: option "kernel" must be "cosine" or "rbf", got ${describeValue(kernel)}`,
    );
  }
  if (kernel === 'cosine') return cosineSimilarityMatrix(name, 'embeddings', embeddings);
  const gamma = options.gamma ?? 1 / dimension;
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0) {
    throw new InvalidOptionError(
      `${name}: option "gamma" must be a positive finite number, got ${describeValue(gamma)}`,
    );
  }
  return rbfKernelMatrix(embeddings, gamma);
}

/**
 * The kernel normalised to unit trace, `K / trace(K)` (when the trace is not positive, the sum
 * of all entries, else 1), as the Python original's `density_matrix_from_kernel`.
 * @throws {InvalidOptionError} when `kernel` is not a square matrix of finite numbers.
 * @example densityMatrixFromKernel([[1, 0.5], [0.5, 1]]) // [[0.5, 0.25], [0.25, 0.5]]
 */
export function densityMatrixFromKernel(kernel: readonly (readonly number[])[]): number[][] {
  assertSquare('densityMatrixFromKernel', 'kernel', kernel);
  let trace = kernel.reduce((sum, row, index) => sum + (row[index] as number), 0);
  if (trace <= 0) trace = kernel.flat().reduce((sum, value) => sum + value, 0);
  if (trace <= 0) trace = 1;
  return kernel.map((row) => row.map((value) => value / trace));
}

/** Options of {@link vonNeumannEntropy}. */
export interface VonNeumannEntropyOptions {
  /** Eigenvalues below this are raised to it before the logarithm. @default 1e-10 */
  eps?: number;
}

/**
 * `−Σ λ ln λ` over the eigenvalues of the symmetric matrix `rho`, in nats, exactly as the Python
 * original's `von_neumann_entropy`: eigenvalues below `eps` are raised to `eps`, renormalised to
 * sum 1 and clamped again. (`kernelLanguageEntropy` instead drops eigenvalues ≤ 1e-12, so
 * identical answers give exactly 0 rather than ~5e-9.)
 * @throws {InvalidOptionError} when `rho` is not a square matrix of finite numbers or `eps` is
 *   not a positive number.
 * @example vonNeumannEntropy([[0.3, 0], [0, 0.7]]) // 0.6108643020548935
 */
export function vonNeumannEntropy(
  rho: readonly (readonly number[])[],
  options: VonNeumannEntropyOptions = {},
): number {
  const name = 'vonNeumannEntropy';
  assertSquare(name, 'rho', rho);
  const eps = options?.eps ?? DEFAULT_EIGENVALUE_FLOOR;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw new InvalidOptionError(
      `${name}: option "eps" must be a positive finite number, got ${describeValue(eps)}`,
    );
  }
  const { EigenvalueDecomposition, Matrix } = mlMatrix();
  const decomposition = new EigenvalueDecomposition(new Matrix(rho.map((row) => [...row])), {
    assumeSymmetric: true,
  });
  const clamped = decomposition.realEigenvalues.map((value) => Math.max(value, eps));
  const total = clamped.reduce((sum, value) => sum + value, 0);
  let entropy = 0;
  for (const value of clamped) {
    const normalised = Math.max(value / total, eps);
    entropy -= normalised * Math.log(normalised);
  }
  return entropy;
}

function assertSquare(
  name: string,
  argument: string,
  matrix: readonly (readonly number[])[],
): void {
  const size = assertVectors(name, argument, matrix);
  if (size !== matrix.length) {
    throw new InvalidOptionError(
      `${name}: ${argument} must be a square matrix, got ${matrix.length} rows of ${size}`,
    );
  }
}
