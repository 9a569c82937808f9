/** Validation and cosine similarity for lists of vectors, shared by the UQ measures. */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';

/**
 * Check that `vectors` is a non-empty list of equally long, non-empty lists of
 * finite numbers, and return their dimension.
 * @throws {InvalidOptionError} naming the function, the argument and the offending row.
 * @internal
 */
export function assertVectors(
  functionName: string,
  argumentName: string,
  vectors: readonly (readonly number[])[],
): number {
  const fail = (message: string): never => {
    throw new InvalidOptionError(`${functionName}: ${message}`);
  };
  if (!Array.isArray(vectors)) {
    fail(`${argumentName} must be an array of number arrays, got ${describeValue(vectors)}`);
  }
  if (vectors.length === 0) fail(`${argumentName} must not be empty`);
  let dimension = -1;
  vectors.forEach((vector, row) => {
    if (!Array.isArray(vector)) {
      fail(`${argumentName}[${row}] must be an array of numbers, got ${describeValue(vector)}`);
    }
    if (vector.length === 0) fail(`${argumentName}[${row}] is empty`);
    if (dimension === -1) dimension = vector.length;
    else if (vector.length !== dimension) {
      fail(
        `${argumentName}[${row}] has ${vector.length} dimensions but ${argumentName}[0] has ${dimension} (ragged input)`,
      );
    }
    vector.forEach((value, column) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(
          `${argumentName}[${row}][${column}] must be a finite number, got ${describeValue(value)}`,
        );
      }
    });
  });
  return dimension;
}

/**
 * Pairwise cosine similarities, clipped to [-1, 1] with an exact 1 on the
 * diagonal (rounding would otherwise leave 0.9999999999999998 there).
 * @throws {InvalidOptionError} when a vector is all zeros: its direction, and so
 *   its cosine similarity, is undefined.
 * @internal
 */
export function cosineSimilarityMatrix(
  functionName: string,
  argumentName: string,
  vectors: readonly (readonly number[])[],
): number[][] {
  const units = vectors.map((vector, row) => {
    // A loop rather than Math.hypot(...vector): spreading a long embedding as
    // arguments can overflow the call stack.
    let squaredNorm = 0;
    for (const value of vector) squaredNorm += value * value;
    const norm = Math.sqrt(squaredNorm);
    if (norm === 0) {
      throw new InvalidOptionError(
        `${functionName}: ${argumentName}[${row}] is a zero vector; cosine similarity is undefined for it (drop it, or use a failed embedding's absence instead of zeros)`,
      );
    }
    return vector.map((value) => value / norm);
  });
  return units.map((left, row) =>
    units.map((right, column) => {
      if (row === column) return 1;
      let dot = 0;
      for (let index = 0; index < left.length; index++) dot += left[index]! * right[index]!;
      return Math.min(1, Math.max(-1, dot));
    }),
  );
}

/** Shannon entropy in nats of the distribution `counts / sum(counts)`. @internal */
export function entropyOfCounts(counts: readonly number[]): number {
  const total = counts.reduce((sum, count) => sum + count, 0);
  let entropy = 0;
  for (const count of counts) {
    if (count > 0) entropy -= (count / total) * Math.log(count / total);
  }
  // A single cluster gives -0; report a plain 0.
  return Math.max(0, entropy);
}

/** `exp(−gamma ‖x_i − x_j‖²)` for every pair, exactly 1 on the diagonal. @internal */
export function rbfKernelMatrix(
  vectors: readonly (readonly number[])[],
  gamma: number,
): number[][] {
  return vectors.map((left, row) =>
    vectors.map((right, column) => {
      if (row === column) return 1;
      let squaredDistance = 0;
      for (let index = 0; index < left.length; index++) {
        squaredDistance += (left[index]! - right[index]!) ** 2;
      }
      return Math.exp(-gamma * squaredDistance);
    }),
  );
}
