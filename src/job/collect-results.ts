/**
 * `job collect`: a job's results into a results file in `run`'s format, every prompt once.
 *
 * The file obeys `run`'s rules (run/result-file.ts): it is used only if it is absent, empty
 * or a results file (every complete line a result record); anything else — a directory, a
 * prompts file, a user's notes — is refused untouched, and the only line ever removed on
 * its own is a last line cut short by a kill. It is locked for the whole collect with run's
 * lock (run/results-lock.ts), so two collects, or a run and a collect, never both write it.
 *
 * The file is merged, not overwritten: what it already holds (an earlier collect, results
 * trimmed from Redis since) is kept, failures in it are replaced by the job's current
 * result for that prompt (a `retry-failed` may have changed it), and results it lacks are
 * appended. So a rerun into the same file is safe, and resumes a collect that was killed.
 */
import { open } from 'node:fs/promises';
import { linkAbortController } from '../internal/linked-abort-controller.js';
import {
  checkResultsPath,
  loadPreviousResults,
  type ResultRecord,
  ResultWriter,
} from '../run/result-file.js';
import { lockResultsFile } from '../run/results-lock.js';
import type { JobKeys } from './job-keys.js';
import type { JobConnection } from './redis-connection.js';

/** Results read from Redis per round trip. */
const PAGE = 1000;
/** Longest wait of one blocking read for new results with `follow`, in milliseconds. */
const FOLLOW_BLOCK_MS = 1000;

/** Options of {@link collectResults}. */
export interface CollectOptions {
  /** Keep collecting results as they complete until the job is finished. @default false */
  follow?: boolean;
  /**
   * Remove successful results from Redis once they are safely in the file (written and
   * fsync'ed), so that Redis memory stays bounded on a long job. Afterwards that file is the
   * only copy of those results. Failures stay in Redis for `retry-failed`. @default false
   */
  trim?: boolean;
  /** Stops collecting (what is written stays, a rerun resumes). */
  signal?: AbortSignal;
  /** Called after each line appended. */
  onResult?(record: ResultRecord): void;
  /**
   * One-line notices: a stale lock taken over, or the lock lost while collecting (the
   * collect then stops as interrupted, so that two writers never write the file at once).
   */
  onNotice?(message: string): void;
}

/** What {@link collectResults} did. */
export interface CollectSummary {
  /** Lines appended by this collect. */
  written: number;
  /** Prompts with a result in the file at the end. */
  inFile: number;
  /** Of those, failures. */
  failedInFile: number;
  /** Lines of an earlier collect removed: cut short by a kill, or failures replaced. */
  replaced: number;
  /** Successful results this collect removed from Redis (`trim`). */
  trimmed: number;
  /** Whether the signal stopped it. */
  interrupted: boolean;
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface Pass {
  writer: ResultWriter;
  /** Keys of successes in the file. */
  succeeded: Set<string>;
  /** Failures in the file: prompt key → its line. */
  failed: Map<string, string>;
  /** A failure in the file was followed by a newer result for the same prompt. */
  superseded: boolean;
  written: number;
  trimmed: number;
}

/**
 * Collect a job's results into `outPath`; see the file comment.
 * @throws {InputFileError} when `outPath` cannot be written or is not a results file (it is
 *   left as it was).
 * @throws {FileLockedError} when a run or another collect is writing `outPath`.
 */
export async function collectResults(
  connection: JobConnection,
  keys: JobKeys,
  outPath: string,
  options: CollectOptions = {},
): Promise<CollectSummary> {
  await checkResultsPath(outPath);
  const { controller: stop, dispose } = linkAbortController(options.signal);
  const lock = await lockResultsFile(outPath, {
    command: 'job collect',
    onNotice: (message) => options.onNotice?.(message),
    onCompromised: (error) => {
      options.onNotice?.(
        `lost the lock on ${outPath} (${error.message}): stopping, so that two writers never write it at once`,
      );
      stop.abort();
    },
  });
  try {
    const locked = { ...options, signal: stop.signal };
    const first = await collectPass(connection, keys, outPath, locked, true);
    let summary = first.summary;
    if (first.superseded && !summary.interrupted) {
      // A failure in the file has a newer result (the prompt was retried): one plain pass
      // drops every failure line and appends each prompt's current result.
      const second = await collectPass(
        connection,
        keys,
        outPath,
        { onResult: options.onResult, signal: stop.signal },
        false,
      );
      summary = {
        ...second.summary,
        written: summary.written + second.summary.written,
        replaced: summary.replaced + second.summary.replaced,
        trimmed: summary.trimmed,
      };
    }
    return summary;
  } finally {
    dispose();
    await lock.release();
  }
}

/**
 * One pass over the job's results. Keeping the file's failures (`keepFailures`), a plain
 * rerun changes nothing; without (the second pass), failure lines are dropped and the job's
 * current result for each comes back.
 */
async function collectPass(
  connection: JobConnection,
  keys: JobKeys,
  outPath: string,
  options: CollectOptions,
  keepFailures: boolean,
): Promise<{ summary: CollectSummary; superseded: boolean }> {
  const { client } = connection;
  const { signal } = options;
  // The failures in the file (prompt key → its line): the only lines a collect replaces.
  const failed = new Map<string, string>();
  const previous = await loadPreviousResults(outPath, {
    retryFailed: !keepFailures,
    onKept: (key, record, line) => {
      if (!record.success) failed.set(key, line);
    },
  });
  for (const key of failed.keys()) previous.finished.delete(key);
  const pass: Pass = {
    writer: new ResultWriter(outPath),
    succeeded: previous.finished,
    failed,
    superseded: false,
    written: 0,
    trimmed: 0,
  };
  let start = '-';
  let finishedSeen = false;
  let interrupted = false;
  try {
    while (!signal?.aborted) {
      const entries = await connection.retry(
        () => client.xRange(keys.results, start, '+', { COUNT: PAGE }),
        signal,
      );
      const trimIds: string[] = [];
      for (const entry of entries) {
        start = `(${entry.id}`;
        const key = entry.message.k;
        const line = entry.message.r;
        if (key === undefined || line === undefined || pass.succeeded.has(key)) continue;
        const inFile = pass.failed.get(key);
        if (inFile === line) continue;
        if (inFile !== undefined) pass.superseded = true;
        const record = JSON.parse(line) as ResultRecord;
        await pass.writer.write(record);
        pass.written++;
        if (record.success) {
          pass.failed.delete(key);
          pass.succeeded.add(key);
          if (options.trim) trimIds.push(entry.id);
        } else pass.failed.set(key, line);
        options.onResult?.(record);
      }
      if (trimIds.length > 0) await trim(connection, keys, outPath, pass, trimIds);
      if (entries.length === PAGE) continue;
      if (!options.follow) break;
      const [total, done] = await connection.retry(
        () => client.hmGet(keys.meta, ['total', 'done']),
        signal,
      );
      if (Number(done) >= Number(total)) {
        // Everything is done: one more read after seeing it takes the last results.
        if (finishedSeen) break;
        finishedSeen = true;
        continue;
      }
      const blocking = await connection.blocking();
      await connection.retry(
        () =>
          blocking.xRead(
            { key: keys.results, id: start === '-' ? '0-0' : start.slice(1) },
            {
              COUNT: 1,
              BLOCK: FOLLOW_BLOCK_MS,
            },
          ),
        signal,
      );
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    await pass.writer.close();
  }
  interrupted = signal?.aborted === true;
  return {
    superseded: pass.superseded,
    summary: {
      written: pass.written,
      inFile: pass.succeeded.size + pass.failed.size,
      failedInFile: pass.failed.size,
      replaced: previous.torn + previous.retried,
      trimmed: pass.trimmed,
      interrupted,
    },
  };
}

/** Remove successful results from Redis once they are on disk. */
async function trim(
  connection: JobConnection,
  keys: JobKeys,
  outPath: string,
  pass: Pass,
  ids: string[],
): Promise<void> {
  await pass.writer.close();
  await fsyncFile(outPath);
  pass.writer = new ResultWriter(outPath);
  const removed = await connection.retry(() => connection.client.xDel(keys.results, ids));
  await connection.retry(() => connection.client.hIncrBy(keys.meta, 'trimmed', Number(removed)));
  pass.trimmed += Number(removed);
}
