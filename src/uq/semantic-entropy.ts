import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors, cosineSimilarityMatrix, entropyOfCounts } from './embedding-vectors.js';

/** Cosine similarity at or above which two answers count as meaning the same. */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.9;

// Distances within this of the cut still merge, so that identical vectors
// (distance ~1e-16 after rounding) merge even at similarityThreshold 1.
const DISTANCE_TOLERANCE = 1e-12;

/** Options of {@link semanticEntropy}. */
export interface SemanticEntropyOptions {
  /**
   * Clusters whose average cosine similarity is at least this merge; the
   * dendrogram is cut at cosine distance `1 − similarityThreshold`. In (0, 1].
   * @default 0.9
   */
  similarityThreshold?: number;
}

/** Result of {@link semanticEntropy}. */
export interface SemanticEntropyResult {
  /** Shannon entropy of the cluster proportions, in nats; 0 when all answers agree. */
  entropy: number;
  /** Cluster label of each embedding, in input order; labels are numbered by first appearance (0, 1, …). */
  clusters: number[];
  /** Number of embeddings in each cluster, indexed by label. */
  clusterSizes: number[];
}

/**
 * Semantic entropy of a set of sampled answers, from their embeddings.
 *
 * Answers are clustered by average-linkage (UPGMA) agglomerative clustering on
 * cosine distance `1 − cos`, merging the closest pair of clusters (ties: lowest
 * indices) while their average distance is at most `1 − similarityThreshold`.
 * The entropy is `−Σ p ln p` over the cluster proportions: 0 for one cluster,
 * `ln 2` for two equal clusters, `ln n` when all `n` answers differ.
 * Time O(n³), memory O(n²) in the number of answers (meant for tens to hundreds).
 *
 * @param embeddings - one embedding per answer, all the same dimension.
 * @throws {InvalidOptionError} for empty, ragged or non-finite input, a zero
 *   vector (cosine is undefined for it), or a threshold outside (0, 1].
 * @returns the entropy in nats, as the Python original's `semantic_entropy`; see
 *   {@link semanticEntropyDetails} for the clusters too.
 * @example semanticEntropy(embeddings, { similarityThreshold: 0.85 }) // 0.693… for two equal clusters
 */
export function semanticEntropy(
  embeddings: readonly (readonly number[])[],
  options: SemanticEntropyOptions = {},
): number {
  return semanticEntropyDetails(embeddings, options).entropy;
}

/**
 * {@link semanticEntropy} with the clustering it came from: each answer's cluster
 * label and the size of each cluster.
 *
 * @throws {InvalidOptionError} as {@link semanticEntropy}.
 * @example const { entropy, clusters, clusterSizes } = semanticEntropyDetails(embeddings);
 */
export function semanticEntropyDetails(
  embeddings: readonly (readonly number[])[],
  options: SemanticEntropyOptions = {},
): SemanticEntropyResult {
  const threshold = resolveSimilarityThreshold(options);
  assertVectors('semanticEntropy', 'embeddings', embeddings);
  const similarity = cosineSimilarityMatrix('semanticEntropy', 'embeddings', embeddings);
  const count = embeddings.length;
  const cutDistance = 1 - threshold + DISTANCE_TOLERANCE;

  // distance[a][b] is the average distance between the clusters represented by
  // a and b; a cluster is represented by its lowest member index.
  const distance = similarity.map((row) => row.map((value) => 1 - value));
  const size = new Array<number>(count).fill(1);
  const parent = Array.from({ length: count }, (_, index) => index);
  const active = new Set(parent);

  for (;;) {
    let best: [number, number] | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const a of active) {
      for (const b of active) {
        if (b <= a) continue;
        const value = distance[a]![b]!;
        if (value < bestDistance) {
          bestDistance = value;
          best = [a, b];
        }
      }
    }
    if (!best || bestDistance > cutDistance) break;
    const [keep, absorbed] = best;
    // Lance–Williams update for average linkage: exact mean of all member pairs.
    for (const other of active) {
      if (other === keep || other === absorbed) continue;
      const merged =
        (size[keep]! * distance[keep]![other]! + size[absorbed]! * distance[absorbed]![other]!) /
        (size[keep]! + size[absorbed]!);
      distance[keep]![other] = merged;
      distance[other]![keep] = merged;
    }
    size[keep]! += size[absorbed]!;
    parent[absorbed] = keep;
    active.delete(absorbed);
  }

  const root = (index: number): number => {
    let current = index;
    while (parent[current] !== current) current = parent[current]!;
    return current;
  };
  const labelOfRoot = new Map<number, number>();
  const clusters = embeddings.map((_, index) => {
    const representative = root(index);
    let label = labelOfRoot.get(representative);
    if (label === undefined) {
      label = labelOfRoot.size;
      labelOfRoot.set(representative, label);
    }
    return label;
  });
  const clusterSizes = new Array<number>(labelOfRoot.size).fill(0);
  for (const label of clusters) clusterSizes[label]!++;
  return { entropy: entropyOfCounts(clusterSizes), clusters, clusterSizes };
}

function resolveSimilarityThreshold(options: SemanticEntropyOptions): number {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `semanticEntropy: options must be an object, got ${describeValue(options)}`,
    );
  }
  const threshold = options.similarityThreshold ?? DEFAULT_SIMILARITY_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new InvalidOptionError(
      `semanticEntropy: option "similarityThreshold" must be a number in (0, 1], got ${describeValue(threshold)}`,
    );
  }
  return threshold;
}
