/**
 * Blackboard: agents collaborate through a shared board of named sections, in rounds. Agents
 * are assigned to sections by their `role` tag (hostfile `role=<section>`).
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  type BoardState,
  type BoardViewOptions,
  validateBoardViewOptions,
  viewBoard,
} from './board-view.js';
import { broadcast } from './broadcast.js';
import {
  assertOptionalFunction,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';

export type { BoardState, BoardViewOptions } from './board-view.js';

/**
 * Builds the prompt for the agents of `section` from the (possibly bounded) board; `round` is
 * the 1-based number of the round being run.
 */
export type BlackboardPromptFunction = (
  section: string,
  board: BoardState,
  round: number,
) => string;

/** Decides after each round whether the session is done; `round` is the round just finished. */
export type BlackboardConvergenceFunction = (board: BoardState, round: number) => boolean;

/** Options of `new Blackboard`. */
export interface BlackboardOptions {
  /** Names of the board sections, in the order they act within a round (unique, non-empty). */
  sections: readonly string[];
  /** Builds each section's prompt. */
  promptFn: BlackboardPromptFunction;
}

/** Default of `BlackboardRunOptions.maxRounds`. */
export const DEFAULT_MAX_ROUNDS = 10;

/** Options of `Blackboard.run`. */
export interface BlackboardRunOptions extends PatternOptions {
  /**
   * Upper bound on the number of rounds of this run; a non-negative integer.
   * @default 10
   */
  maxRounds?: number;
  /** Called after each round with a copy of the board; returning `true` ends the run early. */
  convergence?: BlackboardConvergenceFunction;
  /** Bounds on how much of the board `promptFn` sees. @default the whole board */
  boardView?: BoardViewOptions;
  /**
   * Called after each section of each round has been answered (its successful answers already
   * on the board), e.g. to log every prompt and response as JSONL as the Python original's
   * blackboard_example does. Awaited when it returns a promise; an error it throws ends the run.
   */
  onSection?: (event: BlackboardSectionEvent) => void | Promise<void>;
}

/** What `onSection` receives: one section's turn in one round. */
export interface BlackboardSectionEvent {
  /** The 1-based round. */
  round: number;
  /** The section whose agents were prompted. */
  section: string;
  /** The prompt they received. */
  prompt: string;
  /** Their answers in agent order (failures as values; `agentIndex` is within the section). */
  responses: AgentResponse[];
}

/** A failed agent answer during a blackboard run. */
export interface BlackboardFailure {
  /** The 1-based round. */
  round: number;
  /** The section the agent works on. */
  section: string;
  /** The failed response (`agentIndex` is within the section's sub-pool). */
  response: AgentResponse;
}

/** What `Blackboard.runDetails` returns. */
export interface BlackboardRunDetails {
  /** A deep copy of the board after the run, what `Blackboard.run` resolves to. */
  board: BoardState;
  /** Rounds completed so far, over every run of this blackboard. */
  round: number;
  /** Rounds completed by this run. */
  roundsRun: number;
  /** Whether the convergence callback ended the run. */
  converged: boolean;
  /** Whether the signal ended the run (the interrupted round is not counted). */
  aborted: boolean;
  /** Every failed answer of this run (their sections got no entry from them). */
  failures: BlackboardFailure[];
  /** Sections no agent of the pool is tagged for (they never get entries). */
  idleSections: string[];
}

/** A copy of the blackboard's state. */
export interface BlackboardSnapshot {
  /** Rounds completed. */
  round: number;
  /** Deep copy of the board. */
  board: BoardState;
}

function copyBoard(board: Readonly<BoardState>): BoardState {
  const copy: BoardState = {};
  for (const [section, entries] of Object.entries(board)) copy[section] = [...entries];
  return copy;
}

/**
 * A shared board of sections worked on by role-tagged agents in rounds.
 *
 * Each round visits the sections in order; the agents tagged `role=<section>` all receive
 * `promptFn(section, board, round)` and each successful answer is appended to that section
 * (a later section in the same round sees the earlier sections' new entries). Failed answers
 * are reported in the run's result, never written to the board.
 *
 * @example
 * const board = new Blackboard({
 *   sections: ['hypotheses', 'critiques'],
 *   promptFn: (section, state) => section === 'hypotheses'
 *     ? `Propose a hypothesis. Critiques so far:\n${state.critiques.join('\n')}`
 *     : `Critique these hypotheses:\n${state.hypotheses.join('\n')}`,
 * });
 * const result = await board.run(pool, { maxRounds: 3, boardView: { lastPerSection: 5 } });
 */
export class Blackboard {
  #board: BoardState = {};
  #writeOrder: Record<string, number[]> = {};
  #writeCount = 0;
  #round = 0;
  #running = false;
  readonly #sections: readonly string[];
  readonly #promptFn: BlackboardPromptFunction;

  constructor(options: BlackboardOptions) {
    const name = 'Blackboard';
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionError(
        `${name}: options must be an object, got ${describeValue(options)}`,
      );
    }
    const { sections, promptFn } = options;
    if (!Array.isArray(sections) || sections.length === 0) {
      throw new InvalidOptionError(
        `${name}: sections must be a non-empty array of strings, got ${describeValue(sections)}`,
      );
    }
    const seen = new Set<string>();
    sections.forEach((section: unknown, index: number) => {
      if (typeof section !== 'string' || section === '') {
        throw new InvalidOptionError(
          `${name}: sections[${index}] must be a non-empty string, got ${describeValue(section)}`,
        );
      }
      if (seen.has(section)) {
        throw new InvalidOptionError(
          `${name}: sections[${index}] repeats ${describeValue(section)}`,
        );
      }
      seen.add(section);
    });
    if (typeof promptFn !== 'function') {
      throw new InvalidOptionError(
        `${name}: promptFn must be a function, got ${describeValue(promptFn)}`,
      );
    }
    this.#sections = [...sections];
    this.#promptFn = promptFn;
    for (const section of sections) {
      this.#board[section] = [];
      this.#writeOrder[section] = [];
    }
  }

  /**
   * Add entries to a section before (or between) runs, e.g. seed hypotheses; the Python
   * original's `bb.board["hypotheses"].extend(texts)`.
   * @throws InvalidOptionError for an unknown section, a non-string entry, or while running.
   */
  addEntries(section: string, entries: readonly string[]): void {
    const name = 'Blackboard.addEntries';
    if (this.#running) throw new InvalidOptionError(`${name}: this blackboard is running`);
    if (typeof section !== 'string' || !this.#sections.includes(section)) {
      throw new InvalidOptionError(
        `${name}: section must be one of ${this.#sections.join(', ')}, got ${describeValue(section)}`,
      );
    }
    if (!Array.isArray(entries) || entries.some((entry) => typeof entry !== 'string')) {
      throw new InvalidOptionError(
        `${name}: entries must be an array of strings, got ${describeValue(entries)}`,
      );
    }
    for (const entry of entries) this.#append(section, entry);
  }

  /** The live board (section → entries, oldest first). Read-only: use `snapshot()` for a copy. */
  get board(): Readonly<Record<string, readonly string[]>> {
    return this.#board;
  }

  /** Number of rounds completed. */
  get round(): number {
    return this.#round;
  }

  /** A deep copy of the round count and the board, safe to keep or serialise. */
  snapshot(): BlackboardSnapshot {
    return { round: this.#round, board: copyBoard(this.#board) };
  }

  /**
   * Run up to `maxRounds` rounds on `pool`, stopping early when `convergence` returns true or
   * `signal` aborts (no further section is prompted; calls in flight get the signal). Resolves
   * to the board (a copy: section → entries), as the Python original's `Blackboard.run`; use
   * {@link Blackboard.runDetails} for rounds run, convergence and failures.
   *
   * @throws InvalidOptionError for invalid options, if the blackboard is already running, or if
   *   no agent of the pool is tagged with a section's role.
   */
  async run(pool: SwarmPool, options: BlackboardRunOptions = {}): Promise<BoardState> {
    return (await this.#run('Blackboard.run', pool, options)).board;
  }

  /**
   * {@link Blackboard.run} with what happened: `{ board, round, roundsRun, converged, aborted,
   * failures, idleSections }`, where `board` is what `run` resolves to.
   *
   * @throws InvalidOptionError as {@link Blackboard.run}.
   */
  runDetails(pool: SwarmPool, options: BlackboardRunOptions = {}): Promise<BlackboardRunDetails> {
    return this.#run('Blackboard.runDetails', pool, options);
  }

  #append(section: string, entry: string): void {
    (this.#board[section] as string[]).push(entry);
    (this.#writeOrder[section] as number[]).push(this.#writeCount++);
  }

  async #run(
    name: string,
    pool: SwarmPool,
    options: BlackboardRunOptions,
  ): Promise<BlackboardRunDetails> {
    assertSwarmPool(pool, name);
    const {
      maxRounds = DEFAULT_MAX_ROUNDS,
      convergence,
      boardView,
      onSection,
      ...patternOptions
    } = options ?? {};
    const resolved = resolvePatternOptions(pool, patternOptions, name);
    if (typeof maxRounds !== 'number' || !Number.isInteger(maxRounds) || maxRounds < 0) {
      throw new InvalidOptionError(
        `${name}: maxRounds must be a non-negative integer, got ${describeValue(maxRounds)}`,
      );
    }
    assertOptionalFunction(convergence, 'convergence', name);
    assertOptionalFunction(onSection, 'onSection', name);
    validateBoardViewOptions(boardView, name);
    if (this.#running) throw new InvalidOptionError(`${name}: this blackboard is already running`);

    const sectionPools = this.#sections.map((section) => ({
      section,
      pool: pool.byTag('role', section),
    }));
    const idleSections = sectionPools
      .filter((entry) => entry.pool.size === 0)
      .map((entry) => entry.section);
    if (idleSections.length === this.#sections.length) {
      throw new InvalidOptionError(
        `${name}: no agent of the pool has a role tag naming a section (sections: ${this.#sections.join(', ')}); tag agents in the hostfile with role=<section>`,
      );
    }

    this.#running = true;
    const failures: BlackboardFailure[] = [];
    let roundsRun = 0;
    let converged = false;
    try {
      while (roundsRun < maxRounds && !resolved.signal?.aborted) {
        const round = this.#round + 1;
        for (const { section, pool: sectionPool } of sectionPools) {
          if (sectionPool.size === 0 || resolved.signal?.aborted) continue;
          const view = viewBoard(this.#board, this.#writeOrder, boardView);
          const prompt = this.#promptFn(section, view, round);
          if (typeof prompt !== 'string') {
            throw new InvalidOptionError(
              `${name}: promptFn must return a string, got ${describeValue(prompt)} for section ${describeValue(section)}`,
            );
          }
          const responses = await broadcast(sectionPool, prompt, patternOptions);
          for (const response of responses) {
            if (response.success) this.#append(section, response.text);
            else failures.push({ round, section, response });
          }
          await onSection?.({ round, section, prompt, responses });
        }
        if (resolved.signal?.aborted) break;
        this.#round = round;
        roundsRun += 1;
        if (convergence?.(copyBoard(this.#board), round)) {
          converged = true;
          break;
        }
      }
    } finally {
      this.#running = false;
    }
    return {
      board: copyBoard(this.#board),
      round: this.#round,
      roundsRun,
      converged,
      aborted: resolved.signal?.aborted === true,
      failures,
      idleSections,
    };
  }
}
