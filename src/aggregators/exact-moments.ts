/**
 * Mean and sample standard deviation computed exactly, as Python's `statistics` module computes
 * them (3.11+): every double is an exact rational, sums are exact, and the result is rounded once
 * (the square root correctly rounded, as `statistics._float_sqrt_of_frac`). So `statistics()`
 * returns the Python original's values bit for bit, not merely close to them.
 *
 * Doubles are scaled by 2^1074 (the smallest subnormal) into BigInts; that makes sums exact
 * without fractions. Cost: a few BigInt operations per value, negligible next to an LLM call.
 */

const SCALE_BITS = 1074n;
const SQRT_BIT_WIDTH = 2 * 53 + 3; // statistics._sqrt_bit_width

/** The arithmetic mean of finite `values` (non-empty), as `statistics.mean`. @internal */
export function exactMean(values: readonly number[]): number {
  let sum = 0n;
  for (const value of values) sum += scaledBigInt(value);
  return ratioToNumber(sum, BigInt(values.length) << SCALE_BITS);
}

/** The sample standard deviation of finite `values` (at least two), as `statistics.stdev`. @internal */
export function exactSampleStd(values: readonly number[]): number {
  const count = BigInt(values.length);
  let sum = 0n;
  let sumOfSquares = 0n;
  for (const value of values) {
    const scaled = scaledBigInt(value);
    sum += scaled;
    sumOfSquares += scaled * scaled;
  }
  // ss / (n − 1) = (n·Σx² − (Σx)²) / (n·(n − 1)), everything scaled by 2^2148.
  const numerator = count * sumOfSquares - sum * sum;
  const denominator = (count * (count - 1n)) << (2n * SCALE_BITS);
  return sqrtOfRatio(numerator, denominator);
}

/** `value · 2^1074` as an exact BigInt (finite doubles only). */
function scaledBigInt(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponent = (bits >> 52n) & 0x7ffn;
  const fraction = bits & 0xfffffffffffffn;
  // Normal: (2^52 + fraction) · 2^(exponent − 1075); subnormal: fraction · 2^−1074.
  const magnitude = exponent === 0n ? fraction : ((1n << 52n) | fraction) << (exponent - 1n);
  return negative ? -magnitude : magnitude;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** p / q correctly rounded to a double (round half to even), as Python's `int / int`. */
function ratioToNumber(p: bigint, q: bigint): number {
  if (p === 0n) return 0;
  if (p < 0n) return -ratioToNumber(-p, q);
  const exponent = bitLength(p) - bitLength(q); // p / q lies in [2^(exponent−1), 2^(exponent+1))
  if (exponent > 1025) return Number.POSITIVE_INFINITY;
  if (exponent >= -1020) {
    // 55+ significant bits, the last one sticky (round to odd), then one rounding to 53 bits.
    const shift = 55 - exponent;
    const [quotient, exact] = divide(p, q, shift);
    const significand = Number(exact ? quotient : quotient | 1n);
    // Two steps, so neither power of two underflows; each product is exact.
    return shift > 1000
      ? significand * 2 ** -(shift - 1000) * 2 ** -1000
      : significand * 2 ** -shift;
  }
  // Subnormal range: the result is a multiple of 2^−1074; round to it half to even by hand.
  const [quotient, exact] = divide(p, q, 1076);
  const units = exact ? quotient : quotient | 1n;
  let rounded = units >> 2n;
  const remainder = units & 3n;
  if (remainder > 2n || (remainder === 2n && (rounded & 1n) === 1n)) rounded += 1n;
  return Number(rounded) * Number.MIN_VALUE;
}

/** floor(p · 2^shift / q) and whether the division was exact. */
function divide(p: bigint, q: bigint, shift: number): [bigint, boolean] {
  const numerator = shift >= 0 ? p << BigInt(shift) : p;
  const denominator = shift >= 0 ? q : q << BigInt(-shift);
  return [numerator / denominator, numerator % denominator === 0n];
}

/** √(n / m) correctly rounded, as `statistics._float_sqrt_of_frac`. */
function sqrtOfRatio(n: bigint, m: bigint): number {
  if (n === 0n) return 0;
  const q = Math.floor((bitLength(n) - bitLength(m) - SQRT_BIT_WIDTH) / 2);
  if (q >= 0) {
    return ratioToNumber(sqrtOfRatioRoundToOdd(n, m << BigInt(2 * q)) << BigInt(q), 1n);
  }
  return ratioToNumber(sqrtOfRatioRoundToOdd(n << BigInt(-2 * q), m), 1n << BigInt(-q));
}

function sqrtOfRatioRoundToOdd(n: bigint, m: bigint): bigint {
  const root = integerSqrt(n / m);
  return root * root * m === n ? root : root | 1n;
}

function integerSqrt(value: bigint): bigint {
  if (value < 2n) return value;
  // Newton's iteration from above converges monotonically to floor(√value).
  let x = 1n << BigInt(Math.ceil(bitLength(value) / 2));
  for (;;) {
    const next = (x + value / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}
