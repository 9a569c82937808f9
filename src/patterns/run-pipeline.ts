/**
 * Pipeline: stages run one after another, each stage's output becoming the next one's `{input}`.
 */
import { AbortedError, InvalidOptionError, PipelineStageError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { fillTemplate, formatTemplateValue } from '../internal/fill-template.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import { broadcast } from './broadcast.js';
import {
  assertOptionalFunction,
  assertPositiveInteger,
  assertString,
  assertSwarmPool,
  type PatternOptions,
  resolvePatternOptions,
} from './pattern-options.js';

/** One stage of a pipeline. */
export interface PipelineStage {
  /** A label for reports. */
  name: string;
  /** The prompt sent to each of the stage's agents; `{input}` becomes the previous output. */
  promptTemplate: string;
  /** How many agents answer this stage's prompt; a positive integer. */
  nAgents: number;
  /** Keeps only the responses for which it returns true (before the transform). */
  outputFilter?: (response: AgentResponse) => boolean;
  /**
   * Turns the (filtered) responses into the stage's output.
   * @default the successful texts joined by `\n`
   */
  outputTransform?: (responses: AgentResponse[]) => unknown;
}

/** Default of `RunPipelineOptions.reuseAgents`. */
export const DEFAULT_REUSE_AGENTS = true;

/** Options of `runPipeline`. */
export interface RunPipelineOptions extends PatternOptions {
  /**
   * `true`: every stage uses agents `0 .. nAgents - 1` of the pool. `false`: each stage gets its
   * own agents, the next `nAgents` after the previous stage's (the pool must hold the sum).
   * @default true
   */
  reuseAgents?: boolean;
}

/** What one stage did. */
export interface PipelineStageResult {
  /** The stage's name. */
  name: string;
  /** The prompt its agents received. */
  prompt: string;
  /** Every answer of the stage, in agent order, before filtering (failures as values). */
  responses: AgentResponse[];
  /** The stage's output (undefined if the pipeline stopped at this stage). */
  output: unknown;
}

/** What `runPipelineDetails` returns. */
export interface PipelineDetails {
  /** Whether every stage ran and had at least one successful answer. */
  success: boolean;
  /** The last stage's output, what `runPipeline` resolves to; undefined when `success` is false. */
  output: unknown;
  /** Why the pipeline stopped early (only when `success` is false). */
  error?: string;
  /** The stages that ran, in order. */
  stages: PipelineStageResult[];
}

function defaultTransform(responses: AgentResponse[]): string {
  return responses
    .filter((response) => response.success)
    .map((response) => response.text)
    .join('\n');
}

function validateStages(
  name: string,
  stages: unknown,
  pool: SwarmPool,
  reuseAgents: boolean,
): PipelineStage[] {
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new InvalidOptionError(
      `${name}: stages must be a non-empty array, got ${describeValue(stages)}`,
    );
  }
  let agentsNeeded = 0;
  stages.forEach((stage: unknown, index: number) => {
    if (stage === null || typeof stage !== 'object') {
      throw new InvalidOptionError(
        `${name}: stages[${index}] must be an object, got ${describeValue(stage)}`,
      );
    }
    const candidate = stage as PipelineStage;
    assertString(candidate.name, `stages[${index}].name`, name);
    assertString(candidate.promptTemplate, `stages[${index}].promptTemplate`, name);
    assertPositiveInteger(candidate.nAgents, `stages[${index}].nAgents`, name);
    assertOptionalFunction(candidate.outputFilter, `stages[${index}].outputFilter`, name);
    assertOptionalFunction(candidate.outputTransform, `stages[${index}].outputTransform`, name);
    if (reuseAgents && candidate.nAgents > pool.size) {
      throw new InvalidOptionError(
        `${name}: stages[${index}].nAgents (${candidate.nAgents}) exceeds the pool size (${pool.size})`,
      );
    }
    agentsNeeded += candidate.nAgents;
  });
  if (!reuseAgents && agentsNeeded > pool.size) {
    throw new InvalidOptionError(
      `${name}: with reuseAgents false the stages need ${agentsNeeded} agents in total, the pool has ${pool.size}`,
    );
  }
  return stages as PipelineStage[];
}

/**
 * Run `stages` in order. Each stage's prompt is its `promptTemplate` with `{input}` replaced by
 * the previous stage's output (or `initialInput`; non-strings are written as JSON) and goes to
 * all of the stage's agents; its responses are filtered by `outputFilter` and turned into the
 * stage's output by `outputTransform`.
 *
 * Resolves to the last stage's output, as the Python original's `run_pipeline`; use
 * {@link runPipelineDetails} for every stage's prompt, responses and output. All stages are
 * checked before any call is made.
 *
 * @throws InvalidOptionError for a malformed stage, a stage needing more agents than the pool
 *   has, or (with `reuseAgents: false`) stages needing more agents in total than the pool has.
 * @throws PipelineStageError when no agent of a stage succeeded (deviation: the Python original
 *   passes an empty input on to the next stage).
 * @throws AbortedError when `signal` aborts before the last stage finished.
 * @example
 * const abstract = await runPipeline(pool, [
 *   { name: 'draft', promptTemplate: 'Draft an abstract about {input}', nAgents: 4 },
 *   { name: 'edit', promptTemplate: 'Merge and edit these drafts:\n{input}', nAgents: 1 },
 * ], 'telomere length and ageing');
 */
export async function runPipeline(
  pool: SwarmPool,
  stages: readonly PipelineStage[],
  initialInput: unknown,
  options: RunPipelineOptions = {},
): Promise<unknown> {
  const details = await pipelineDetails('runPipeline', pool, stages, initialInput, options);
  if (details.success) return details.output;
  const last = details.stages.at(-1);
  const message = `runPipeline: ${details.error ?? 'failed'}`;
  if (options?.signal?.aborted) throw new AbortedError(message, { cause: options.signal.reason });
  throw new PipelineStageError(message, {
    stage: last?.name ?? '',
    responses: last?.responses ?? [],
  });
}

/**
 * {@link runPipeline} with every stage's prompt, responses and output:
 * `{ success, output, error?, stages }`. Never rejects for agent failures or an abort: a stage
 * in which no agent succeeded, or an abort, gives `success: false` and an `error` naming the
 * stage.
 *
 * @throws InvalidOptionError as {@link runPipeline}.
 * @example
 * const { success, output, stages } = await runPipelineDetails(pool, stages, 'telomeres');
 */
export function runPipelineDetails(
  pool: SwarmPool,
  stages: readonly PipelineStage[],
  initialInput: unknown,
  options: RunPipelineOptions = {},
): Promise<PipelineDetails> {
  return pipelineDetails('runPipelineDetails', pool, stages, initialInput, options);
}

async function pipelineDetails(
  name: string,
  pool: SwarmPool,
  stages: readonly PipelineStage[],
  initialInput: unknown,
  options: RunPipelineOptions,
): Promise<PipelineDetails> {
  assertSwarmPool(pool, name);
  const { reuseAgents = DEFAULT_REUSE_AGENTS, ...patternOptions } = options ?? {};
  if (typeof reuseAgents !== 'boolean') {
    throw new InvalidOptionError(
      `${name}: reuseAgents must be a boolean, got ${describeValue(reuseAgents)}`,
    );
  }
  const resolved = resolvePatternOptions(pool, patternOptions, name);
  const validStages = validateStages(name, stages, pool, reuseAgents);

  const results: PipelineStageResult[] = [];
  let input: unknown = initialInput;
  let offset = 0;
  for (const stage of validStages) {
    if (resolved.signal?.aborted) {
      return {
        success: false,
        output: undefined,
        error: `aborted before stage "${stage.name}"`,
        stages: results,
      };
    }
    const stagePool = reuseAgents
      ? pool.slice(0, stage.nAgents)
      : pool.slice(offset, offset + stage.nAgents);
    offset += stage.nAgents;
    const prompt = fillTemplate(stage.promptTemplate, { input: formatTemplateValue(input) });
    const responses = await broadcast(stagePool, prompt, patternOptions);
    if (resolved.signal?.aborted) {
      results.push({ name: stage.name, prompt, responses, output: undefined });
      return {
        success: false,
        output: undefined,
        error: `aborted during stage "${stage.name}"`,
        stages: results,
      };
    }
    if (!responses.some((response) => response.success)) {
      results.push({ name: stage.name, prompt, responses, output: undefined });
      const firstError = responses.find((response) => !response.success)?.error;
      return {
        success: false,
        output: undefined,
        error: `stage "${stage.name}": none of its ${responses.length} agent(s) succeeded${firstError ? ` (first error: ${firstError})` : ''}`,
        stages: results,
      };
    }
    const kept = stage.outputFilter ? responses.filter(stage.outputFilter) : responses;
    input = (stage.outputTransform ?? defaultTransform)(kept);
    results.push({ name: stage.name, prompt, responses, output: input });
  }
  return { success: true, output: input, stages: results };
}
