/**
 * Tree-reduce: leaf answers are reduced in groups of `fanin` by supervisor agents, level after
 * level, until one answer remains.
 *
 * Scheduling follows the data dependency only: a supervisor starts as soon as its own group is
 * complete, not when its whole level is, and at most `window` calls are ever in flight.
 * Groups are formed by position (leaf i belongs to group floor(i / fanin)), so the tree's shape
 * is known up front and does not depend on the order in which agents finish.
 */
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { fillTemplate, formatTemplateValue } from '../internal/fill-template.js';
import { linkAbortController } from '../internal/linked-abort-controller.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  aggregationCallOptions,
  joinSuccessfulTexts,
  noSuccessfulInputResponse,
} from './aggregation-step.js';
import {
  assertNonEmptyPool,
  assertOptionalFunction,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';
import { NOT_SENT_ABORTED, unsentResponse } from './unsent-response.js';

/** Default of `TreeReduceOptions.fanin`. */
export const DEFAULT_FANIN = 50;

/** Options of `treeReduce`. */
export interface TreeReduceOptions extends PatternOptions {
  /**
   * How many answers one supervisor reduces; an integer ≥ 2.
   * @default 50
   */
  fanin?: number;
  /**
   * One leaf per item, `{item}` of the prompt replaced by the item (objects as JSON); leaf i goes
   * to agent `i % pool.size`. Without items, the prompt is broadcast to every agent.
   */
  items?: readonly unknown[];
  /**
   * Token budget of each supervisor call, from its level (1 for the first supervisor level) and
   * the number of answers in its group, e.g. `(level, groupSize) => 4048 * groupSize + 4096` as
   * the Python original's tree_reduce_coli example. Must return a positive integer.
   * @default the pool's `maxTokensAggregation`, else `maxTokens`
   */
  supervisorMaxTokens?: (level: number, groupSize: number) => number;
}

/** Why a node of the tree failed. */
export type TreeReduceFailureCause =
  /** A leaf call failed. */
  | 'leaf'
  /** A supervisor call failed: its whole group is lost for the levels above. */
  | 'supervisor'
  /** Every input of a group failed, so its supervisor was not called. */
  | 'no-successful-input';

/** A failed node of the tree. */
export interface TreeReduceFailure {
  /** 0 for leaves, then 1, 2, … for supervisor levels. */
  level: number;
  /** Position of the node within its level (leaf index or group index). */
  index: number;
  /** What failed. */
  cause: TreeReduceFailureCause;
  /** The failed response. */
  response: AgentResponse;
}

/** What `treeReduceDetails` returns: the final answer and the whole tree. */
export interface TreeReduceDetails {
  /**
   * The final answer (the root of the tree), what `treeReduce` resolves to; a failed response if
   * the reduction failed.
   */
  answer: AgentResponse;
  /**
   * Every node's response: `levels[0]` are the leaves in input (or agent) order, `levels[k]` the
   * results of the level-k groups in group order. A group with a single successful input passes
   * that input's response up unchanged (no call is made for it).
   */
  levels: AgentResponse[][];
  /** Every failed leaf and group, ordered by level then index. */
  failures: TreeReduceFailure[];
  /** Number of supervisor calls made. */
  supervisorCalls: number;
}

// The Python original drops answers without non-whitespace text before grouping (its
// `_has_content`): an empty answer adds nothing to a summary but separators.
function usableInputs(children: readonly AgentResponse[]): AgentResponse[] {
  return children.filter((response) => response.success && response.text.trim() !== '');
}

function budgetOf(
  supervisorMaxTokens: (level: number, groupSize: number) => number,
  level: number,
  groupSize: number,
  name: string,
): number {
  const budget = supervisorMaxTokens(level, groupSize);
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1) {
    throw new InvalidOptionError(
      `${name}: supervisorMaxTokens(${level}, ${groupSize}) must return a positive integer, got ${describeValue(budget)}`,
    );
  }
  return budget;
}

interface PendingGroup {
  level: number;
  index: number;
}

function levelSizes(leafCount: number, fanin: number): number[] {
  const sizes = [leafCount];
  let last = leafCount;
  while (last > 1) {
    last = Math.ceil(last / fanin);
    sizes.push(last);
  }
  return sizes;
}

/**
 * Reduce the answers of many agents to one through a tree of supervisors.
 *
 * Leaves: `prompt` broadcast to every agent, or, with `options.items`, one prompt per item
 * (`{item}` substituted). Then groups of `fanin` consecutive answers are reduced by a supervisor
 * (group j of a level goes to agent `j % pool.size`) with `reducePrompt`, in which `{responses}`
 * becomes the group's successful answers joined by `\n---\n` and `{level}` the level number
 * (1 for the first supervisor level). Substitution is a single pass over the template: text
 * written by agents is never rescanned, so an answer containing `{level}` survives verbatim.
 * Supervisors use `supervisorMaxTokens(level, groupSize)` when given, else the pool's aggregation
 * token budget (`maxTokensAggregation`) when it has one. Answers with no non-whitespace text are
 * left out of their group, as the Python original does.
 *
 * Failures are values: failed leaves are left out of their group, a group whose inputs all
 * failed is reported (`no-successful-input`) instead of being sent an empty prompt, and a failed
 * supervisor is reported (`supervisor`) in `failures`. A group with exactly one successful
 * input passes it up without a call. When `options.signal` aborts, no further call starts and
 * `answer` is a failed response with `failureKind: 'aborted'` unless the root had finished.
 *
 * Resolves to the root's response, as the Python original's `tree_reduce`; use
 * {@link treeReduceDetails} for every node of the tree and its failures.
 *
 * @throws InvalidOptionError if `fanin` is not an integer ≥ 2, `items` is not an array or is
 *   empty, there are no leaves (an empty pool without items), or `supervisorMaxTokens` is not a
 *   function or returns anything but a positive integer.
 * @example
 * const answer = await treeReduce(pool, 'Summarise: {item}',
 *   'Level {level}: merge these summaries:\n{responses}', { items: documents, fanin: 10 });
 */
export async function treeReduce(
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: TreeReduceOptions = {},
): Promise<AgentResponse> {
  return (await reduceTree('treeReduce', pool, prompt, reducePrompt, options)).answer;
}

/**
 * {@link treeReduce} with the whole tree: `{ answer, levels, failures, supervisorCalls }`, where
 * `answer` is what `treeReduce` resolves to.
 *
 * @throws InvalidOptionError as {@link treeReduce}.
 * @example
 * const { answer, failures } = await treeReduceDetails(pool, prompt, reducePrompt, { fanin: 10 });
 */
export function treeReduceDetails(
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: TreeReduceOptions = {},
): Promise<TreeReduceDetails> {
  return reduceTree('treeReduceDetails', pool, prompt, reducePrompt, options);
}

async function reduceTree(
  name: string,
  pool: SwarmPool,
  prompt: string,
  reducePrompt: string,
  options: TreeReduceOptions,
): Promise<TreeReduceDetails> {
  assertSwarmPool(pool, name);
  assertString(prompt, 'prompt', name);
  assertString(reducePrompt, 'reducePrompt', name);
  const { fanin = DEFAULT_FANIN, items, supervisorMaxTokens, ...patternOptions } = options ?? {};
  const resolved = resolvePatternOptions(pool, patternOptions, name);
  if (typeof fanin !== 'number' || !Number.isInteger(fanin) || fanin < 2) {
    throw new InvalidOptionError(
      `${name}: fanin must be an integer >= 2, got ${describeValue(fanin)}`,
    );
  }
  if (items !== undefined && !Array.isArray(items)) {
    throw new InvalidOptionError(`${name}: items must be an array, got ${describeValue(items)}`);
  }
  if (items !== undefined && items.length === 0) {
    throw new InvalidOptionError(`${name}: items must not be empty`);
  }
  assertNonEmptyPool(pool, name);
  assertOptionalFunction(supervisorMaxTokens, 'supervisorMaxTokens', name);

  const leafCount = items === undefined ? pool.size : items.length;
  const sizes = levelSizes(leafCount, fanin);
  const top = sizes.length - 1;
  const results: (AgentResponse | undefined)[][] = sizes.map(() => []);
  const remainingChildren: number[][] = sizes.map((size, level) =>
    level === 0
      ? []
      : Array.from({ length: size }, (_, index) =>
          Math.min(fanin, (sizes[level - 1] as number) - index * fanin),
        ),
  );
  const failures: TreeReduceFailure[] = [];
  const readyGroups: PendingGroup[] = [];
  const { controller, dispose } = linkAbortController(resolved.signal);
  const signal = controller.signal;
  let nextLeaf = 0;
  let inFlight = 0;
  let supervisorCalls = 0;

  const childrenOf = (level: number, index: number): AgentResponse[] =>
    (results[level - 1] as (AgentResponse | undefined)[])
      .slice(index * fanin, index * fanin + fanin)
      .map((response) => response as AgentResponse);

  const complete = (level: number, index: number, response: AgentResponse): void => {
    (results[level] as (AgentResponse | undefined)[])[index] = response;
    if (level === top) return;
    const parentLevel = level + 1;
    const parentIndex = Math.floor(index / fanin);
    const remaining = remainingChildren[parentLevel] as number[];
    remaining[parentIndex] = (remaining[parentIndex] as number) - 1;
    if (remaining[parentIndex] === 0) resolveGroup(parentLevel, parentIndex);
  };

  const resolveGroup = (level: number, index: number): void => {
    // After an abort the tree is incomplete: passing a lone survivor up would fake an answer.
    if (signal.aborted) return;
    const children = childrenOf(level, index);
    const inputs = usableInputs(children);
    if (inputs.length === 1) {
      complete(level, index, inputs[0] as AgentResponse);
    } else if (inputs.length === 0) {
      const step = `the level-${level} supervisor of group ${index}`;
      const response = children.some((child) => !child.success)
        ? noSuccessfulInputResponse(index % pool.size, step, children)
        : unsentResponse(
            index % pool.size,
            `${step} was not called: its ${children.length} input(s) were all empty`,
            'agent-error',
          );
      failures.push({ level, index, cause: 'no-successful-input', response });
      complete(level, index, response);
    } else {
      readyGroups.push({ level, index });
    }
  };

  const result = await new Promise<AgentResponse | undefined>((resolve, reject) => {
    let settled = false;
    const finishIfDone = (): void => {
      if (settled) return;
      const root = results[top]?.[0];
      if (root !== undefined || (inFlight === 0 && signal.aborted)) {
        settled = true;
        resolve(root);
      }
    };
    const onResponse = (
      level: number,
      index: number,
      cause: TreeReduceFailureCause,
      response: AgentResponse,
    ): void => {
      inFlight -= 1;
      if (!response.success) failures.push({ level, index, cause, response });
      complete(level, index, response);
      pump();
      finishIfDone();
    };
    const onRejected = (error: unknown): void => {
      inFlight -= 1;
      // Settle before aborting: the abort listener would otherwise resolve with no answer.
      if (!settled) {
        settled = true;
        reject(error);
      }
      controller.abort(error);
    };
    const pump = (): void => {
      while (inFlight < resolved.window && !signal.aborted) {
        const group = readyGroups.shift();
        if (group !== undefined) {
          const { level, index } = group;
          const inputs = usableInputs(childrenOf(level, index));
          const filled = fillTemplate(reducePrompt, {
            responses: joinSuccessfulTexts(inputs),
            level: String(level),
          });
          const callOptions = aggregationCallOptions(pool, resolved.callOptions, signal);
          if (supervisorMaxTokens !== undefined) {
            try {
              callOptions.maxTokens = budgetOf(supervisorMaxTokens, level, inputs.length, name);
            } catch (error) {
              inFlight += 1; // onRejected releases it
              onRejected(error);
              return;
            }
          }
          inFlight += 1;
          supervisorCalls += 1;
          pool
            .post(index % pool.size, filled, callOptions)
            .then((response) => onResponse(level, index, 'supervisor', response), onRejected);
        } else if (nextLeaf < leafCount) {
          const index = nextLeaf++;
          const leafPrompt =
            items === undefined
              ? prompt
              : fillTemplate(prompt, { item: formatTemplateValue(items[index]) });
          inFlight += 1;
          pool
            .post(index % pool.size, leafPrompt, { ...resolved.callOptions, signal })
            .then((response) => onResponse(0, index, 'leaf', response), onRejected);
        } else {
          break;
        }
      }
    };
    const onAbort = (): void => finishIfDone();
    signal.addEventListener('abort', onAbort, { once: true });
    pump();
    finishIfDone();
  }).finally(dispose);

  const levels = results.map((level, levelIndex) =>
    Array.from(
      { length: sizes[levelIndex] as number },
      (_, index) => level[index] ?? unsentResponse(index % pool.size, NOT_SENT_ABORTED),
    ),
  );
  failures.sort((left, right) => left.level - right.level || left.index - right.index);
  const answer = result ?? unsentResponse(0, NOT_SENT_ABORTED);
  return {
    answer,
    levels,
    failures,
    supervisorCalls,
  };
}
