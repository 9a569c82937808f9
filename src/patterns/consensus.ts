/**
 * Consensus: ask agents the same question and stop as soon as the majority answer is
 * decided — no remaining vote can change it — aborting the calls still running, so the
 * GPUs of a swarm are not spent on votes that no longer matter.
 */
import {
  type MajorityVoteTally,
  majorityVote,
  normalizeAnswer,
} from '../aggregators/majority-vote.js';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  assertNonEmptyPool,
  assertOptionalFunction,
  assertPositiveInteger,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';
import { stoppableFanOut } from './stoppable-fan-out.js';

/** Options of {@link consensus}. */
export interface ConsensusOptions extends PatternOptions {
  /**
   * How many votes to ask for: vote i goes to agent i % size, so more votes than agents
   * samples agents several times (self-consistency). A positive integer.
   * @default the pool's size
   */
  maxVotes?: number;
  /** Never stop before this many votes were counted. A positive integer. @default 1 */
  minVotes?: number;
  /**
   * A fraction of `maxVotes` that is enough: stop as soon as one answer has at least
   * `quorum × maxVotes` votes, even if the rest could still outvote it. In (0, 1].
   * @default undefined (stop only when the outcome cannot change)
   */
  quorum?: number;
  /**
   * The form answers are compared in, as `majorityVote`'s option of the same name.
   * @default normalizeAnswer (strip, lower-case)
   */
  normalize?: (text: string) => string;
}

/** What {@link consensus} found. */
export interface ConsensusResult {
  /** The winning answer, normalised (as `majorityVote`'s `winner`); `''` when nothing voted. */
  winner: string;
  /** The first spelling of the winning answer, before normalisation. */
  winnerText: string;
  /** The winner's share of the votes counted, in [0, 1]. */
  confidence: number;
  /** The distinct answers counted, most votes first (as `majorityVote`'s `votes`). */
  votes: MajorityVoteTally[];
  /** One response per vote asked, in vote order; aborted and unsent calls are failures. */
  responses: AgentResponse[];
  /** Whether the vote stopped before every vote was in (decided, or the quorum reached). */
  stoppedEarly: boolean;
  /** Calls stopped by the early stop: aborted while running or never sent. */
  aborted: number;
}

const FUNCTION_NAME = 'consensus';

/**
 * Ask `pool` for `prompt` up to `maxVotes` times (default: once per agent) and tally the
 * normalised answers as they arrive, exactly as `majorityVote` compares them (failures do
 * not vote). As soon as no remaining vote can change the winner (its lead is larger than
 * the votes still to come) — or the `quorum` is reached — nothing more is sent and the calls
 * still running are aborted. The winner then has strictly more votes than any other answer;
 * when every vote came in, ties go to the answer seen first, as in `majorityVote`.
 *
 * @throws InvalidOptionError for bad options or an empty pool.
 * @example
 * const { winner, confidence, stoppedEarly, aborted } = await consensus(pool, 'Is 17 prime? yes or no');
 */
export async function consensus(
  pool: SwarmPool,
  prompt: string,
  options?: ConsensusOptions,
): Promise<ConsensusResult> {
  assertSwarmPool(pool, FUNCTION_NAME);
  assertString(prompt, 'prompt', FUNCTION_NAME);
  const { maxVotes, minVotes, quorum, normalize, ...patternOptions } = options ?? {};
  const resolved = resolvePatternOptions(pool, patternOptions, FUNCTION_NAME);
  assertNonEmptyPool(pool, FUNCTION_NAME);
  if (maxVotes !== undefined) assertPositiveInteger(maxVotes, 'maxVotes', FUNCTION_NAME);
  if (minVotes !== undefined) assertPositiveInteger(minVotes, 'minVotes', FUNCTION_NAME);
  if (quorum !== undefined && (typeof quorum !== 'number' || !(quorum > 0 && quorum <= 1))) {
    throw new InvalidOptionError(
      `${FUNCTION_NAME}: quorum must be a number in (0, 1], got ${describeValue(quorum)}`,
    );
  }
  assertOptionalFunction(normalize, 'normalize', FUNCTION_NAME);
  const normalizeText = normalize ?? normalizeAnswer;
  const total = maxVotes ?? pool.size;
  const enough = quorum === undefined ? Number.POSITIVE_INFINITY : Math.ceil(quorum * total);
  const tally = new Map<string, number>();
  const counted: AgentResponse[] = [];
  let settled = 0;
  let badNormalized: unknown;
  let hasBadNormalized = false;

  const decided = (response: AgentResponse): boolean => {
    settled++;
    if (response.success) {
      const key = normalizeText(response.text);
      if (typeof key !== 'string') {
        badNormalized = key;
        hasBadNormalized = true;
        return true;
      }
      tally.set(key, (tally.get(key) ?? 0) + 1);
      counted.push(response);
    }
    if (counted.length < (minVotes ?? 1)) return false;
    let first = 0;
    let second = 0;
    for (const count of tally.values()) {
      if (count > first) {
        second = first;
        first = count;
      } else if (count > second) second = count;
    }
    return first >= enough || first > second + (total - settled);
  };

  const run = await stoppableFanOut(pool, prompt, total, resolved, decided);
  if (hasBadNormalized) {
    throw new InvalidOptionError(
      `${FUNCTION_NAME}: option "normalize" must return a string, got ${describeValue(badNormalized)}`,
    );
  }
  // The tally of the votes the decision saw, by majorityVote's own rules.
  const result = majorityVote(counted, { normalize: normalizeText });
  return {
    winner: result.winner,
    winnerText: result.winnerText,
    confidence: result.confidence,
    votes: result.votes,
    responses: run.responses,
    stoppedEarly: run.stoppedEarly && settled < total,
    aborted: run.aborted,
  };
}
