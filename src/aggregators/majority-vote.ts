import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { stripPythonWhitespace } from '../internal/python-whitespace.js';
import type { AgentResponse } from '../pool/types.js';
import { type AggregatorOptions, assertFunction, selectResponses } from './aggregator-options.js';

/** Options of {@link majorityVote}. */
export interface MajorityVoteOptions extends AggregatorOptions {
  /**
   * Maps an answer to the form that is compared. Two answers vote together when
   * their normalised forms are equal.
   * @default {@link normalizeAnswer} (strip, lower-case: the Python original's rule)
   */
  normalize?: (text: string) => string;
}

/** One distinct answer and how many responses gave it. */
export interface MajorityVoteTally {
  /** The original text of the first response that gave this answer. */
  answer: string;
  /** The normalised form the responses were compared by. */
  normalized: string;
  /** Number of considered responses that gave this answer. */
  count: number;
}

/** Result of {@link majorityVote}: the Python original's `(winner, confidence)` and more. */
export interface MajorityVoteResult {
  /**
   * The winning answer in its normalised form (stripped and lower-cased by default), as the
   * Python original returns it; `''` when no response was considered (empty input, or all failed).
   */
  winner: string;
  /**
   * The original text of the first response that gave the winning answer (its spelling before
   * normalisation); `''` when no response was considered.
   */
  winnerText: string;
  /** Winner's count divided by `considered`, in [0, 1]; `0` when nothing was considered. */
  confidence: number;
  /** Distinct answers, most votes first; equal counts keep first-seen order. */
  votes: MajorityVoteTally[];
  /** Number of responses that voted (successes, plus failures with `includeFailures`). */
  considered: number;
}

/**
 * The comparison form of an answer, as the Python original's `r.text.strip().lower()`: leading
 * and trailing whitespace removed (Python's whitespace set), lower-cased. Inner whitespace is
 * kept, so `'Paris  France'` and `'paris france'` are different answers.
 * @example normalizeAnswer('  Paris\n') // 'paris'
 */
export function normalizeAnswer(text: string): string {
  return stripPythonWhitespace(text).toLowerCase();
}

/**
 * The most frequent answer among the responses, after normalising each one, as the Python
 * original's `majority_vote`: `winner` is the normalised answer, `confidence` its share of the
 * votes. Ties go to the answer seen first. `winnerText` keeps the first response's own spelling.
 *
 * Failed responses are skipped unless `includeFailures` is set (then they vote for the empty
 * answer). No response considered → `winner: ''`, `confidence: 0`.
 *
 * @example majorityVote(responses) // { winner: 'paris', winnerText: 'Paris', confidence: 0.75, votes: [...], considered: 4 }
 */
export function majorityVote(
  responses: readonly AgentResponse[],
  options: MajorityVoteOptions = {},
): MajorityVoteResult {
  const considered = selectResponses('majorityVote', responses, options);
  const normalize = options.normalize ?? normalizeAnswer;
  assertFunction('majorityVote', 'option "normalize"', normalize);

  // A Map keeps insertion order, which is the first-seen order ties fall back on.
  const tallies = new Map<string, MajorityVoteTally>();
  for (const response of considered) {
    const normalized = normalize(response.text);
    if (typeof normalized !== 'string') {
      throw new InvalidOptionError(
        `majorityVote: option "normalize" must return a string, got ${describeValue(normalized)}`,
      );
    }
    const tally = tallies.get(normalized);
    if (tally) tally.count++;
    else tallies.set(normalized, { answer: response.text, normalized, count: 1 });
  }

  // Array.prototype.sort is stable, so equal counts stay in first-seen order.
  const votes = [...tallies.values()].sort((left, right) => right.count - left.count);
  const top = votes[0];
  return {
    winner: top?.normalized ?? '',
    winnerText: top?.answer ?? '',
    confidence: top ? top.count / considered.length : 0,
    votes,
    considered: considered.length,
  };
}
