import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors, cosineSimilarityMatrix, rbfKernelMatrix } from './embedding-vectors.js';
import { mlMatrix } from './ml-matrix.js';

/** Kernels {@link kernelLanguageEntropy} can build over the embeddings. */
export type KernelName = 'cosine' | 'rbf';

/** Kernel used unless told otherwise. */
export const DEFAULT_KERNEL: KernelName = 'cosine';

// Eigenvalues of the unit-trace kernel at or below this are rounding noise of
// a positive semi-definite matrix (they can come out slightly negative).
const EIGENVALUE_TOLERANCE = 1e-12;

/** Options of {@link kernelLanguageEntropy}. */
export interface KernelLanguageEntropyOptions {
  /**
   * `cosine`: `K[i][j] = cos(x_i, x_j)`. `rbf`: `K[i][j] = exp(−gamma ‖x_i − x_j‖²)`.
   * @default 'cosine'
   */
  kernel?: KernelName;
  /**
   * Width parameter of the RBF kernel, a positive number (ignored by `cosine`).
   * @default 1 / dimension (as scikit-learn)
   */
  gamma?: number;
}

/** Result of {@link kernelLanguageEntropy}. */
export interface KernelLanguageEntropyResult {
  /** Von Neumann entropy `−Σ λ ln λ` of the unit-trace kernel, in nats. */
  entropy: number;
  /** The positive eigenvalues λ of the unit-trace kernel, largest first; they sum to 1. */
  eigenvalues: number[];
}

/**
 * Kernel language entropy: the von Neumann entropy of the kernel matrix of the
 * answers' embeddings, normalised to unit trace (`K / n`, every diagonal entry
 * being 1).
 *
 * The cosine kernel is the Gram matrix of the unit-normalised embeddings, so
 * it is positive semi-definite as it stands: negative similarities are kept,
 * not clipped, and only eigenvalues at or below 1e-12 (rounding noise) are
 * dropped. The RBF kernel is positive definite. Eigenvalues come from
 * ml-matrix's symmetric eigensolver.
 * Identical answers give 0; `n` orthonormal answers give `ln n`.
 *
 * @throws {InvalidOptionError} for empty, ragged or non-finite input, a zero
 *   vector with the cosine kernel, an unknown kernel or a non-positive gamma.
 * @returns the von Neumann entropy in nats; see {@link kernelLanguageEntropyDetails}
 *   for the eigenvalues too.
 * @example kernelLanguageEntropy(embeddings, { kernel: 'rbf', gamma: 0.5 })
 */
export function kernelLanguageEntropy(
  embeddings: readonly (readonly number[])[],
  options: KernelLanguageEntropyOptions = {},
): number {
  return kernelLanguageEntropyDetails(embeddings, options).entropy;
}

/**
 * {@link kernelLanguageEntropy} with the normalised kernel's eigenvalues.
 *
 * @throws {InvalidOptionError} as {@link kernelLanguageEntropy}.
 * @example const { entropy, eigenvalues } = kernelLanguageEntropyDetails(embeddings);
 */
export function kernelLanguageEntropyDetails(
  embeddings: readonly (readonly number[])[],
  options: KernelLanguageEntropyOptions = {},
): KernelLanguageEntropyResult {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `kernelLanguageEntropy: options must be an object, got ${describeValue(options)}`,
    );
  }
  const kernel = options.kernel ?? DEFAULT_KERNEL;
  if (kernel !== 'cosine' && kernel !== 'rbf') {
    throw new InvalidOptionError(
      `kernelLanguageEntropy: option "kernel" must be "cosine" or "rbf", got ${describeValue(kernel)}`,
    );
  }
  const dimension = assertVectors('kernelLanguageEntropy', 'embeddings', embeddings);
  const gamma = options.gamma ?? 1 / dimension;
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma <= 0) {
    throw new InvalidOptionError(
      `kernelLanguageEntropy: option "gamma" must be a positive finite number, got ${describeValue(gamma)}`,
    );
  }

  const kernelMatrix =
    kernel === 'cosine'
      ? cosineSimilarityMatrix('kernelLanguageEntropy', 'embeddings', embeddings)
      : rbfKernelMatrix(embeddings, gamma);
  const trace = kernelMatrix.reduce((sum, row, index) => sum + row[index]!, 0);
  const { EigenvalueDecomposition, Matrix } = mlMatrix();
  const normalised = new Matrix(kernelMatrix).div(trace);
  const decomposition = new EigenvalueDecomposition(normalised, { assumeSymmetric: true });
  const eigenvalues = decomposition.realEigenvalues
    .filter((value) => value > EIGENVALUE_TOLERANCE)
    .sort((left, right) => right - left);
  let entropy = 0;
  for (const value of eigenvalues) entropy -= value * Math.log(value);
  return { entropy: Math.max(0, entropy), eigenvalues };
}
