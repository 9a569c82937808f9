/**
 * Which members a sub-pool keeps: pure functions from a pool's members to the
 * sub-pool's, validating the arguments (misuse throws).
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { PoolMember } from './pool-member.js';

/** Members whose tag `key` equals `value`, in pool order (possibly none). */
export function selectByTag<Member extends PoolMember>(
  members: readonly Member[],
  key: string,
  value: string,
): Member[] {
  if (typeof key !== 'string' || key === '') {
    throw new InvalidOptionError(
      `byTag key: expected a non-empty string, got ${describeValue(key)}`,
    );
  }
  if (typeof value !== 'string') {
    throw new InvalidOptionError(`byTag value: expected a string, got ${describeValue(value)}`);
  }
  return members.filter((member) => member.endpoint.tags[key] === value);
}

/**
 * `count` members chosen uniformly at random without replacement (all of them, shuffled,
 * when `count` exceeds the pool size, as the Python original did).
 */
export function selectSample<Member extends PoolMember>(
  members: readonly Member[],
  count: number,
  random: () => number = Math.random,
): Member[] {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new InvalidOptionError(`sample n: expected an integer >= 0, got ${describeValue(count)}`);
  }
  const chosen = members.slice();
  const take = Math.min(count, chosen.length);
  // Partial Fisher-Yates: only the first `take` positions need shuffling.
  for (let index = 0; index < take; index++) {
    const swap = index + Math.floor(random() * (chosen.length - index));
    const held = chosen[index]!;
    chosen[index] = chosen[swap]!;
    chosen[swap] = held;
  }
  chosen.length = take;
  return chosen;
}

/** The members at these pool indices, in the given order (repeats allowed). */
export function selectIndices<Member extends PoolMember>(
  members: readonly Member[],
  indices: readonly number[],
): Member[] {
  if (!Array.isArray(indices)) {
    throw new InvalidOptionError(
      `select indices: expected an array of integers, got ${describeValue(indices)}`,
    );
  }
  return indices.map((index, position) => {
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 0 ||
      index >= members.length
    ) {
      throw new InvalidOptionError(
        `select indices[${position}]: expected an integer in [0, ${members.length}), got ${describeValue(index)}`,
      );
    }
    return members[index]!;
  });
}

/** Members `start` (inclusive) to `end` (exclusive); negative values count from the end. */
export function selectSlice<Member extends PoolMember>(
  members: readonly Member[],
  start: number,
  end?: number,
): Member[] {
  for (const [name, value] of [
    ['start', start],
    ['end', end],
  ] as const) {
    if (name === 'end' && value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new InvalidOptionError(
        `slice ${name}: expected an integer, got ${describeValue(value)}`,
      );
    }
  }
  return members.slice(start, end);
}
