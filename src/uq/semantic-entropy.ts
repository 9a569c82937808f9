import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { assertVectors, cosineSimilarityMatrix, entropyOfCounts } from './embedding-vectors.js';

/** Cosine similarity at or above which two answers count as meaning the same. */
export const DEFAULT_SIMILARITY_THRESHOLD = 0.9;

/**
 * How the distance between two clusters is measured: `single` (closest members), `complete`
 * (farthest members) or `average` (mean over all member pairs, UPGMA) — scipy's `linkage` methods
 * the Python original offers.
 */
export type LinkageMethod = 'single' | 'complete' | 'average';

/** Linkage used unless told otherwise, as in the Python original. */
export const DEFAULT_LINKAGE_METHOD: LinkageMethod = 'average';

// Distances within this of the cut still merge, so that identical vectors
// (distance ~1e-16 after rounding) merge even at similarityThreshold 1.
const DISTANCE_TOLERANCE = 1e-12;

/** Options of {@link semanticEntropy} and {@link clusterEmbeddings}. */
export interface SemanticEntropyOptions {
  /**
   * Clusters closer than `1 − similarityThreshold` in cosine distance (by `linkageMethod`)
   * merge; the dendrogram is cut there. In (0, 1].
   * @default 0.9
   */
  similarityThreshold?: number;
  /** `single`, `complete` or `average` linkage (Python: `linkage_method` / `method`). @default 'average' */
  linkageMethod?: LinkageMethod;
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
 * Answers are clustered agglomeratively on cosine distance `1 − cos` (average linkage, UPGMA,
 * unless `linkageMethod` says `single` or `complete`), merging the closest pair of clusters
 * (ties: lowest indices) while their distance is at most `1 − similarityThreshold`.
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
  const clusters = clusterLabels('semanticEntropy', embeddings, options);
  const clusterSizes = new Array<number>(Math.max(0, ...clusters) + 1).fill(0);
  for (const label of clusters) clusterSizes[label]!++;
  return { entropy: entropyOfCounts(clusterSizes), clusters, clusterSizes };
}

/**
 * The cluster of each embedding, numbered 1, 2, … as the Python original's `cluster_embeddings`:
 * agglomerative clustering on cosine distance with `linkageMethod`, cut at
 * `1 − similarityThreshold`. Labels are numbered by first appearance (scipy numbers the same
 * clusters in its own order; the partition is the same).
 * @throws {InvalidOptionError} as {@link semanticEntropy}.
 * @example clusterEmbeddings([[1, 0], [0.99, 0.1], [0, 1]]) // [1, 1, 2]
 */
export function clusterEmbeddings(
  embeddings: readonly (readonly number[])[],
  options: SemanticEntropyOptions = {},
): number[] {
  return clusterLabels('clusterEmbeddings', embeddings, options).map((label) => label + 1);
}

function clusterLabels(
  name: string,
  embeddings: readonly (readonly number[])[],
  options: SemanticEntropyOptions,
): number[] {
  const { threshold, linkage } = resolveClusterOptions(name, options);
  assertVectors(name, 'embeddings', embeddings);
  const similarity = cosineSimilarityMatrix(name, 'embeddings', embeddings);
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
    // Lance–Williams updates: average is the exact mean of all member pairs.
    for (const other of active) {
      if (other === keep || other === absorbed) continue;
      const toKeep = distance[keep]![other]!;
      const toAbsorbed = distance[absorbed]![other]!;
      const merged =
        linkage === 'single'
          ? Math.min(toKeep, toAbsorbed)
          : linkage === 'complete'
            ? Math.max(toKeep, toAbsorbed)
            : (size[keep]! * toKeep + size[absorbed]! * toAbsorbed) /
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
  return clusters;
}

function resolveClusterOptions(
  name: string,
  options: SemanticEntropyOptions,
): { threshold: number; linkage: LinkageMethod } {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError(
      `${name}: options must be an object, got ${describeValue(options)}`,
    );
  }
  const linkage = options.linkageMethod ?? DEFAULT_LINKAGE_METHOD;
  if (linkage !== 'single' && linkage !== 'complete' && linkage !== 'average') {
    throw new InvalidOptionError(
      `${name}: option "linkageMethod" must be "single", "complete" or "average", got ${describeValue(linkage)}`,
    );
  }
  const threshold = options.similarityThreshold ?? DEFAULT_SIMILARITY_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new InvalidOptionError(
      `${name}: option "similarityThreshold" must be a number in (0, 1], got ${describeValue(threshold)}`,
    );
  }
  return { threshold, linkage };
}
