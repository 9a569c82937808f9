/**
 * `job collect`: a job's results into a results file in `run`'s format, every prompt once.
 *
 * The file is merged, not overwritten: what it already holds (an earlier collect, results
 * trimmed from Redis since) is kept, failures in it are replaced by the job's current
 * result for that prompt (a `retry-failed` may have changed it), and results it lacks are
 * appended. So a rerun into the same file is safe, and resumes a collect that was killed.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputFileError } from '../errors.js';
import { promptIdKey } from '../run/prompt-file.js';
import { loadPreviousResults, type ResultRecord, ResultWriter } from '../run/result-file.js';
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

/**
 * Refuse a file that is not a results file: only an absent or empty file, or one whose every
 * complete line is a result record, may be collected into (its last line may be cut short).
 * Resolves with the failures it holds (prompt key → line), the only lines a collect may replace.
 * @throws {InputFileError} naming the path and the first line that is not a result.
 */
export async function checkResultsFile(path: string): Promise<Map<string, string>> {
  const failures = new Map<string, string>();
  let size: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw new InputFileError(`${path} is not a file`, { path });
    size = stats.size;
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return failures;
    throw new InputFileError(`cannot read ${path}: ${(error as Error).message}`, { path });
  }
  if (size === 0) return failures;
  // Only a last line without its newline can be a write cut by a kill.
  const cutShort = (await lastByte(path, size)) !== 0x0a;
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let lineNumber = 0;
  let bad: number | undefined;
  for await (const line of lines) {
    lineNumber++;
    if (bad !== undefined) {
      // A bad line that turns out to be the last one is a write cut by a kill: allowed.
      break;
    }
    const record = parseResultLine(line);
    if (record === undefined) bad = lineNumber;
    else if (!record.success && !failures.has(promptIdKey(record.id))) {
      failures.set(promptIdKey(record.id), line);
    }
  }
  lines.close();
  if (bad !== undefined && (bad < lineNumber || !cutShort)) {
    throw new InputFileError(
      `${path}:${bad}: not a results file (line ${bad} is not a result record); refusing to write into it`,
      { path, lineNumber: bad },
    );
  }
  return failures;
}

function parseResultLine(line: string): ResultRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<ResultRecord> | null;
    const valid =
      value !== null &&
      typeof value === 'object' &&
      typeof value.success === 'boolean' &&
      (typeof value.id === 'string' || typeof value.id === 'number');
    return valid ? (value as ResultRecord) : undefined;
  } catch {
    return undefined;
  }
}

async function lastByte(path: string, size: number): Promise<number | undefined> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1);
    await handle.read(buffer, 0, 1, size - 1);
    return buffer[0];
  } finally {
    await handle.close();
  }
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

/** Collect a job's results into `outPath`; see the file comment. */
export async function collectResults(
  connection: JobConnection,
  keys: JobKeys,
  outPath: string,
  options: CollectOptions = {},
): Promise<CollectSummary> {
  const failuresInFile = await checkResultsFile(outPath);
  const first = await collectPass(connection, keys, outPath, options, failuresInFile);
  let summary = first.summary;
  if (first.superseded && !summary.interrupted) {
    // A failure in the file has a newer result (the prompt was retried): one plain pass
    // drops every failure line and appends each prompt's current result.
    const second = await collectPass(connection, keys, outPath, { onResult: options.onResult });
    summary = {
      ...second.summary,
      written: summary.written + second.summary.written,
      replaced: summary.replaced + second.summary.replaced,
      trimmed: summary.trimmed,
    };
  }
  return summary;
}

async function collectPass(
  connection: JobConnection,
  keys: JobKeys,
  outPath: string,
  options: CollectOptions,
  failuresInFile?: Map<string, string>,
): Promise<{ summary: CollectSummary; superseded: boolean }> {
  const { client } = connection;
  const { signal } = options;
  // Keeping the file's failures: a plain rerun changes nothing. Without (the second pass),
  // failure lines are dropped and the job's current result for each comes back below.
  const previous = await loadPreviousResults(outPath, {
    retryFailed: failuresInFile === undefined,
  });
  const failed = failuresInFile ?? new Map<string, string>();
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
