/** Deterministic data with a known linear map, shared by the probe tests. */

// Deterministic pseudo-random features (a linear congruential generator).
export function features(rows: number, columns: number): number[][] {
  let state = 12345;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  };
  return Array.from({ length: rows }, () => Array.from({ length: columns }, next));
}

export const TRUE_WEIGHTS = [2, -3, 0.5];
export const TRUE_INTERCEPT = 1.25;
export const linearMap = (row: number[]) =>
  TRUE_WEIGHTS.reduce((sum, weight, index) => sum + weight * row[index]!, TRUE_INTERCEPT);
