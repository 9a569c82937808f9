/**
 * `aurora-swarm run` without the command line: every prompt of a prompts file through a
 * pool, each result appended to a results file as it completes, resumable.
 *
 * Safety: the results file is checked before anything is sent (writable, not the prompts
 * file, nothing in it but result records), locked for the whole run (see results-lock.ts),
 * and an unreachable proxy or swarm is waited out, not written as failures (outage-guard.ts).
 *
 * Memory: the prompts in flight (the window), plus each prompt id's key in a compact exact
 * set (its bytes plus ~16 bytes, outside the JS heap: compact-string-set.ts) and one byte a
 * prompt for "done" (to detect duplicates up front and to skip finished prompts on a rerun);
 * never the prompts or the results as a whole.
 */
import {
  classifyFailure,
  FAILURE_CAUSES,
  type FailureCause,
} from '../aggregators/failure-report.js';
import { InvalidOptionError } from '../errors.js';
import type { CompactStringSet } from '../internal/compact-string-set.js';
import { linkAbortController } from '../internal/linked-abort-controller.js';
import { runWindowed } from '../internal/windowed-stream.js';
import { withTailHedge } from '../pool/call-options.js';
import { isRetryableFailureKind } from '../pool/failure-kind.js';
import { TailHedge } from '../pool/tail-hedge.js';
import type {
  AgentResponse,
  CallOptions,
  DispatchPolicy,
  FailureKind,
  SwarmPool,
} from '../pool/types.js';
import { DEFAULT_OUTAGE_TIMEOUT_MS, OutageGuard, type OutageNotice } from './outage-guard.js';
import {
  type PromptFileFormat,
  type PromptRecord,
  promptIdKey,
  readPromptFile,
  scanPromptIds,
} from './prompt-file.js';
import { PromptMarks } from './prompt-marks.js';
import {
  checkResultsPath,
  type ResultRecord,
  ResultWriter,
  readPreviousResults,
  toResultRecord,
} from './result-file.js';
import { lockResultsFile } from './results-lock.js';
import { SwarmReachability } from './swarm-reachability.js';

/** Options of {@link runPromptFile}. */
export interface RunPromptFileOptions {
  /** The agents (prompt i of this run goes to agent i % size, unless `dispatch` says otherwise). */
  pool: SwarmPool;
  /**
   * `round-robin`: prompt i of this run to agent i % size. `least-loaded`: each prompt to the
   * agent with the fewest calls in flight, open circuit breakers skipped, sent again to
   * another agent when it cannot connect (the pool's `postLeastLoaded`). @default 'round-robin'
   */
  dispatch?: DispatchPolicy;
  /** The prompts file: JSONL (`{"id", "prompt"}`) or plain text, one prompt a line. */
  promptsPath: string;
  /** The results file, appended to; read first to skip prompts already done. */
  outPath: string;
  /** How to read the prompts file. @default 'auto' */
  format?: PromptFileFormat;
  /** Send again the prompts whose earlier result is a failure. @default true */
  retryFailed?: boolean;
  /**
   * Also send again earlier failures that a retry cannot fix (`context-overflow`,
   * `invalid-request`: see `FAILURE_KINDS`), e.g. after switching to a longer context.
   * @default false
   */
  retryAllFailed?: boolean;
  /** Most prompts in flight at once. @default the pool's concurrency */
  window?: number;
  /** Upper bound on generated tokens per prompt. @default the pool's */
  maxTokens?: number;
  /** Timeout of one prompt, in milliseconds. @default the pool's */
  timeoutMs?: number;
  /**
   * How long an unreachable proxy (or, directly, an unreachable swarm) is waited for before
   * the run stops as interrupted (`stopReason: 'outage'`); a rerun resumes. @default 600_000
   */
  outageTimeoutMs?: number;
  /** The proxy the pool sends through, for outage probes. @default the pool's `proxyUrl` */
  proxyUrl?: string;
  /**
   * Stops the run: nothing new is sent, calls in flight are aborted and not recorded
   * (they are sent again on the next run), the file is flushed.
   */
  signal?: AbortSignal;
  /** Called once the prompts file is validated and the earlier results are read. */
  onStart?(plan: RunPlan): void;
  /** Called after each result is appended. */
  onResult?(record: ResultRecord, progress: RunProgress): void;
  /** One-line notices: a stale lock taken over, an outage, its end. */
  onNotice?(message: string, event?: RunNoticeEvent): void;
  /** @internal tests: the id sets' factory (a constant hash exercises the collision path). */
  idSet?: () => CompactStringSet;
}

/** What a notice of {@link RunPromptFileOptions.onNotice} is about. */
export type RunNoticeEvent = { type: 'lock-taken-over' } | { type: 'lock-lost' } | OutageNotice;

/** What a run is going to do, known before the first prompt is sent. */
export interface RunPlan {
  /** How the prompts file was read. */
  format: 'jsonl' | 'text';
  /** Prompts in the file. */
  total: number;
  /** Prompts of the file with a result kept from an earlier run (skipped). */
  alreadyDone: number;
  /** Of those, failures (kept because `retryFailed` is false or a retry cannot fix them). */
  alreadyFailed: number;
  /** Of those, failures kept because a retry cannot fix them (see `retryAllFailed`). */
  finalFailures: number;
  /** Prompts this run sends. */
  toRun: number;
  /** Failed results of an earlier run removed so that their prompts are sent again. */
  retried: number;
  /** 1 when the file's last line was cut short by a kill (no newline at the end), removed. */
  torn: number;
  /** Result lines removed because their id had a result already. */
  duplicates: number;
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
  /** The failure kind (the words of `failure_kind` in the results file). */
  cause: FailureCause;
  count: number;
  /** The first error message of this group, as an example. */
  example: string;
  /** Whether sending these prompts again may succeed. */
  retryHelps: boolean;
}

/** Why a run stopped before every prompt was done. */
export type RunStopReason = 'signal' | 'outage' | 'lock-lost';

/** What a run did. */
export interface RunSummary extends RunProgress {
  plan: RunPlan;
  /** Whether the run stopped before every prompt was done (a rerun resumes). */
  interrupted: boolean;
  /** Why it stopped early, when it did. */
  stopReason?: RunStopReason;
  /** This run's failures by kind, most frequent first. */
  failures: RunFailureGroup[];
  /** Results per second over the run. */
  resultsPerSecond: number;
}

/** Whether an earlier failure is kept on a rerun because sending it again cannot help. */
function isFinalFailure(record: ResultRecord): boolean {
  return !record.success && !isRetryableFailureKind(record.failure_kind as FailureKind);
}

/**
 * Send every prompt of `promptsPath` that has no result in `outPath` yet, appending one
 * JSON line per prompt as results arrive. The prompts file is validated whole, and the
 * results file checked and locked, before anything is sent. Rerunning after a crash, a kill,
 * an interrupt or an outage sends only what is missing (and, by default, what failed in a way
 * a retry may fix), so every id ends up in the file exactly once.
 *
 * @throws {InputFileError} for an unreadable or malformed prompts file, or a results file that
 *   is not one (or cannot be written); nothing is sent and the file is left as it was.
 * @throws {FileLockedError} when another run is writing `outPath`.
 */
export async function runPromptFile(options: RunPromptFileOptions): Promise<RunSummary> {
  const { pool, promptsPath, outPath } = options;
  const dispatch = options.dispatch ?? 'round-robin';
  if (dispatch !== 'round-robin' && dispatch !== 'least-loaded') {
    throw new InvalidOptionError(
      `runPromptFile: dispatch must be 'round-robin' or 'least-loaded', got ${JSON.stringify(dispatch)}`,
    );
  }
  if (dispatch === 'least-loaded' && typeof pool.postLeastLoaded !== 'function') {
    throw new InvalidOptionError(
      "runPromptFile: dispatch 'least-loaded' needs a pool with postLeastLoaded (VLLMPool, AgentPool)",
    );
  }
  const format = options.format ?? 'auto';
  await checkResultsPath(outPath, promptsPath);
  const scanned = await scanPromptIds(promptsPath, format, options.idSet);
  const { controller: stop, dispose: disposeStop } = linkAbortController(options.signal);
  let stopReason: RunStopReason | undefined;
  const stopRun = (reason: RunStopReason) => {
    stopReason ??= reason;
    stop.abort();
  };
  const lock = await lockResultsFile(outPath, {
    onNotice: (message) => options.onNotice?.(message, { type: 'lock-taken-over' }),
    onCompromised: (error) => {
      options.onNotice?.(
        `lost the lock on ${outPath} (${error.message}): stopping, so that two runs never write it at once`,
        { type: 'lock-lost' },
      );
      stopRun('lock-lost');
    },
  });
  const proxyUrl = options.proxyUrl ?? (pool as { proxyUrl?: string }).proxyUrl;
  const reachability = new SwarmReachability({ endpoints: pool.endpoints, proxyUrl });
  try {
    const { plan, done } = await planRun(scanned, outPath, options);
    options.onStart?.(plan);
    const guard = new OutageGuard({
      ...reachability.outageProbe(),
      outageTimeoutMs: options.outageTimeoutMs ?? DEFAULT_OUTAGE_TIMEOUT_MS,
      signal: stop.signal,
      onOutage: (event) => options.onNotice?.('', { type: 'outage', ...event }),
      onRecovered: (event) => options.onNotice?.('', { type: 'recovered', ...event }),
      onGiveUp: (event) => {
        options.onNotice?.('', { type: 'outage-timeout', ...event });
        stopRun('outage');
      },
    });
    const progress = await sendPending({
      ...options,
      plan,
      format: scanned.format,
      ids: scanned.ids,
      done,
      guard,
      signal: stop.signal,
    });
    return summarize(plan, progress, stopReason);
  } finally {
    disposeStop();
    await reachability.close();
    await lock.release();
  }
}

/**
 * Read the results file (see `loadPreviousResults`), marking which prompts are done on the
 * prompts' own id set (one byte a prompt) rather than in a second set of keys.
 */
async function planRun(
  scanned: { format: 'jsonl' | 'text'; count: number; ids: CompactStringSet },
  outPath: string,
  options: RunPromptFileOptions,
): Promise<{ plan: RunPlan; done: PromptMarks }> {
  const newMarks = () => new PromptMarks(scanned.ids, options.idSet);
  const previous = await readPreviousResults(
    outPath,
    {
      retryFailed: options.retryFailed ?? true,
      isFinalFailure: options.retryAllFailed ? undefined : isFinalFailure,
    },
    newMarks,
  );
  const done = previous.finished;
  const alreadyDone = done.marked;
  const plan: RunPlan = {
    format: scanned.format,
    total: scanned.count,
    alreadyDone,
    alreadyFailed: Math.min(previous.keptFailures, alreadyDone),
    finalFailures: Math.min(previous.finalFailures, alreadyDone),
    toRun: scanned.count - alreadyDone,
    retried: previous.retried,
    torn: previous.torn,
    duplicates: previous.duplicates,
    unmatched: done.others,
  };
  return { plan, done };
}

interface SendPendingOptions extends RunPromptFileOptions {
  plan: RunPlan;
  format: 'jsonl' | 'text';
  /** The prompts' ids, and which of them are done (by entry). */
  ids: CompactStringSet;
  done: PromptMarks;
  guard: OutageGuard;
  signal: AbortSignal;
}

interface RunCounts {
  progress: RunProgress;
  failures: Map<FailureCause, RunFailureGroup>;
}

/** Send what is not finished yet and append each result; stops when `signal` fires. */
async function sendPending(options: SendPendingOptions): Promise<RunCounts> {
  const { pool, plan, guard, signal } = options;
  const counts: RunCounts = {
    progress: { done: 0, succeeded: 0, failed: 0, toRun: plan.toRun, elapsedMs: 0 },
    failures: new Map(),
  };
  const { progress, failures } = counts;
  const startedAt = performance.now();
  const { promptsPath, format, ids, done } = options;
  async function* pending() {
    for await (const record of readPromptFile(promptsPath, format)) {
      if (!done.isMarked(ids.entryOf(promptIdKey(record.id)))) yield record;
    }
  }
  const writer = new ResultWriter(options.outPath);
  try {
    if (plan.toRun === 0 || signal.aborted) return counts;
    // Least-loaded calls hedge adaptively once the prompt file is read to its end.
    const tail = options.dispatch === 'least-loaded' ? new TailHedge() : undefined;
    const results = runWindowed<PromptRecord, AgentResponse | undefined>(pending(), {
      window: options.window ?? pool.concurrency,
      signal,
      launch: (prompt, index, callSignal) =>
        guard.send(() => {
          const callOptions: CallOptions = {
            signal: callSignal,
            ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
            ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
          };
          return options.dispatch === 'least-loaded' && pool.postLeastLoaded !== undefined
            ? pool.postLeastLoaded(prompt.prompt, withTailHedge(callOptions, tail))
            : pool.post(index % pool.size, prompt.prompt, callOptions);
        }),
      onExhausted: () => tail?.drain(),
    });
    for await (const { item: prompt, result: response } of results) {
      // Not a result: held back by an outage that outlasted the timeout, or cut by the
      // interrupt. The next run sends it again.
      if (response === undefined || (signal.aborted && response.failureKind === 'aborted')) {
        continue;
      }
      const record = toResultRecord(prompt, response);
      await writer.write(record);
      progress.done++;
      if (response.success) progress.succeeded++;
      else {
        progress.failed++;
        const cause = classifyFailure(response);
        const group = failures.get(cause);
        if (group) group.count++;
        else {
          const retryHelps = cause === 'unknown' || isRetryableFailureKind(cause);
          failures.set(cause, { cause, count: 1, example: record.error ?? '', retryHelps });
        }
      }
      progress.elapsedMs = performance.now() - startedAt;
      options.onResult?.(record, progress);
    }
  } finally {
    await writer.close();
    progress.elapsedMs = performance.now() - startedAt;
  }
  return counts;
}

function summarize(
  plan: RunPlan,
  { progress, failures }: RunCounts,
  stopReason: RunStopReason | undefined,
): RunSummary {
  const groups = [...failures.values()].sort(
    (a, b) =>
      b.count - a.count || FAILURE_CAUSES.indexOf(a.cause) - FAILURE_CAUSES.indexOf(b.cause),
  );
  const interrupted = progress.done < plan.toRun;
  const summary: RunSummary = {
    ...progress,
    plan,
    interrupted,
    failures: groups,
    resultsPerSecond: progress.elapsedMs > 0 ? (progress.done * 1000) / progress.elapsedMs : 0,
  };
  if (interrupted) summary.stopReason = stopReason ?? 'signal';
  return summary;
}
