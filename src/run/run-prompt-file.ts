/**
 * `aurora-swarm run` without the command line: every prompt of a prompts file through a
 * pool, each result appended to a results file as it completes, resumable.
 *
 * Memory: the prompts in flight (the window), plus one short key per prompt id (to detect
 * duplicates up front and to skip finished prompts on a rerun); never the prompts or the
 * results as a whole.
 */
import {
  classifyFailure,
  FAILURE_CAUSES,
  type FailureCause,
} from '../aggregators/failure-report.js';
import { scatterGatherStream } from '../patterns/scatter-gather-stream.js';
import type { AgentResponse, SwarmPool } from '../pool/types.js';
import {
  type PromptFileFormat,
  type PromptRecord,
  promptIdKey,
  readPromptFile,
  scanPromptFile,
} from './prompt-file.js';
import { loadPreviousResults, type ResultRecord, ResultWriter } from './result-file.js';

/** Options of {@link runPromptFile}. */
export interface RunPromptFileOptions {
  /** The agents (prompt i of this run goes to agent i % size). */
  pool: SwarmPool;
  /** The prompts file: JSONL (`{"id", "prompt"}`) or plain text, one prompt a line. */
  promptsPath: string;
  /** The results file, appended to; read first to skip prompts already done. */
  outPath: string;
  /** How to read the prompts file. @default 'auto' */
  format?: PromptFileFormat;
  /** Send again the prompts whose earlier result is a failure. @default true */
  retryFailed?: boolean;
  /** Most prompts in flight at once. @default the pool's concurrency */
  window?: number;
  /** Upper bound on generated tokens per prompt. @default the pool's */
  maxTokens?: number;
  /** Timeout of one prompt, in milliseconds. @default the pool's */
  timeoutMs?: number;
  /**
   * Stops the run: nothing new is sent, calls in flight are aborted and not recorded
   * (they are sent again on the next run), the file is flushed.
   */
  signal?: AbortSignal;
  /** Called once the prompts file is validated and the earlier results are read. */
  onStart?(plan: RunPlan): void;
  /** Called after each result is appended. */
  onResult?(record: ResultRecord, progress: RunProgress): void;
}

/** What a run is going to do, known before the first prompt is sent. */
export interface RunPlan {
  /** How the prompts file was read. */
  format: 'jsonl' | 'text';
  /** Prompts in the file. */
  total: number;
  /** Prompts of the file with a result kept from an earlier run (skipped). */
  alreadyDone: number;
  /** Of those, failures kept because `retryFailed` is false. */
  alreadyFailed: number;
  /** Prompts this run sends. */
  toRun: number;
  /** Failed results of an earlier run removed so that their prompts are sent again. */
  retried: number;
  /** Lines of the results file cut short or unreadable (a killed run), removed. */
  torn: number;
  /** Results in the file whose id is not in the prompts file (another prompts file?). */
  unmatched: number;
}

/** Counts so far, for progress displays. */
export interface RunProgress {
  /** Prompts of this run with a result (successes + failures). */
  done: number;
  succeeded: number;
  failed: number;
  /** Prompts this run sends in total. */
  toRun: number;
  /** Milliseconds since the first prompt was sent. */
  elapsedMs: number;
}

/** One group of failures in a {@link RunSummary}. */
export interface RunFailureGroup {
  cause: FailureCause;
  count: number;
  /** The first error message of this group, as an example. */
  example: string;
}

/** What a run did. */
export interface RunSummary extends RunProgress {
  plan: RunPlan;
  /** Whether the signal stopped the run before every prompt was done. */
  interrupted: boolean;
  /** This run's failures by cause (see `failureReport`), most frequent first. */
  failures: RunFailureGroup[];
  /** Results per second over the run. */
  resultsPerSecond: number;
}

function toRecord(prompt: PromptRecord, response: AgentResponse): ResultRecord {
  const record: ResultRecord = {
    id: prompt.id,
    success: response.success,
    agent: response.globalIndex,
    line: prompt.lineNumber,
  };
  if (response.success) record.text = response.text;
  else {
    record.error = response.error ?? 'unknown error';
    if (response.failureKind !== undefined) record.failure_kind = response.failureKind;
  }
  if (response.latencyMs !== undefined) record.latency_ms = Math.round(response.latencyMs);
  if (response.finishReason !== undefined) record.finish_reason = response.finishReason;
  if (response.usage) {
    record.usage = {
      prompt_tokens: response.usage.promptTokens,
      completion_tokens: response.usage.completionTokens,
      total_tokens: response.usage.totalTokens,
    };
  }
  return record;
}

/**
 * Send every prompt of `promptsPath` that has no result in `outPath` yet, appending one
 * JSON line per prompt as results arrive. The prompts file is validated whole before
 * anything is sent. Rerunning after a crash, a kill or an interrupt sends only what is
 * missing (and, by default, what failed), so every id ends up in the file exactly once.
 *
 * @throws {InputFileError} for an unreadable or malformed prompts file (nothing sent).
 */
export async function runPromptFile(options: RunPromptFileOptions): Promise<RunSummary> {
  const { pool, promptsPath, outPath, signal } = options;
  const format = options.format ?? 'auto';
  const scanned = await scanPromptFile(promptsPath, format, { keepIds: true });
  const previous = await loadPreviousResults(outPath, {
    retryFailed: options.retryFailed ?? true,
  });
  let alreadyDone = 0;
  for (const key of previous.finished) if (scanned.ids?.has(key)) alreadyDone++;
  const plan: RunPlan = {
    format: scanned.format,
    total: scanned.count,
    alreadyDone,
    alreadyFailed: Math.min(previous.keptFailures, alreadyDone),
    toRun: scanned.count - alreadyDone,
    retried: previous.retried,
    torn: previous.torn,
    unmatched: previous.finished.size - alreadyDone,
  };
  options.onStart?.(plan);

  const failures = new Map<FailureCause, RunFailureGroup>();
  const progress: RunProgress = {
    done: 0,
    succeeded: 0,
    failed: 0,
    toRun: plan.toRun,
    elapsedMs: 0,
  };
  const startedAt = performance.now();
  const inFlight = new Map<number, PromptRecord>();
  const finished = previous.finished;
  async function* pending() {
    let position = 0;
    for await (const record of readPromptFile(promptsPath, scanned.format)) {
      if (finished.has(promptIdKey(record.id))) continue;
      inFlight.set(position++, record);
      yield record.prompt;
    }
  }
  const writer = new ResultWriter(outPath);
  try {
    if (plan.toRun > 0 && !signal?.aborted) {
      const stream = scatterGatherStream(pool, pending(), {
        window: options.window,
        maxTokens: options.maxTokens,
        timeoutMs: options.timeoutMs,
        signal,
      });
      for await (const { index, response } of stream) {
        const prompt = inFlight.get(index);
        inFlight.delete(index);
        // A call cut by the interrupt is not a result: the next run sends it again.
        if (prompt === undefined || (signal?.aborted && response.failureKind === 'aborted')) {
          continue;
        }
        const record = toRecord(prompt, response);
        await writer.write(record);
        progress.done++;
        if (response.success) progress.succeeded++;
        else {
          progress.failed++;
          const cause = classifyFailure(response);
          const group = failures.get(cause);
          if (group) group.count++;
          else failures.set(cause, { cause, count: 1, example: record.error ?? '' });
        }
        progress.elapsedMs = performance.now() - startedAt;
        options.onResult?.(record, progress);
      }
    }
  } finally {
    await writer.close();
  }
  progress.elapsedMs = performance.now() - startedAt;
  const groups = [...failures.values()].sort(
    (a, b) =>
      b.count - a.count || FAILURE_CAUSES.indexOf(a.cause) - FAILURE_CAUSES.indexOf(b.cause),
  );
  return {
    ...progress,
    plan,
    interrupted: progress.done < plan.toRun,
    failures: groups,
    resultsPerSecond: progress.elapsedMs > 0 ? (progress.done * 1000) / progress.elapsedMs : 0,
  };
}
