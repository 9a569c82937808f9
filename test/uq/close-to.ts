import assert from 'node:assert/strict';

/** Assert `actual` is within `tolerance` of `expected`. */
export function assertCloseTo(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(
    Math.abs(actual - expected) < tolerance,
    `expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}
