/** Small statistics helpers shared by the benchmarks. */

/** Value at quantile `q` (0..1) of `values` (nearest rank on a sorted copy); NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return quantileOfSorted(sorted, q);
}

/** Like {@link percentile} for an already sorted array (ascending). */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

/** `numerator / denominator` rounded to 3 decimals (NaN-safe). */
export function ratio(numerator: number, denominator: number): number {
  return round(numerator / denominator, 3);
}

/** Round to `digits` decimals. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
