/**
 * The results file of `aurora-swarm run`: one JSON line per prompt, appended as
 * results arrive, and read back on a rerun to skip what is already done.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputFileError } from '../errors.js';
import { CompactStringSet } from '../internal/compact-string-set.js';
import { describeFileError } from '../internal/describe-file-error.js';
import { writableFileProblem } from '../internal/writable-path.js';
import type { AgentResponse } from '../pool/types.js';
import { type PromptId, promptIdKey } from './prompt-file.js';

/** One line of a results file. */
export interface ResultRecord {
  id: PromptId;
  success: boolean;
  /** The answer (successes only). */
  text?: string;
  /** What went wrong (failures only). */
  error?: string;
  /** Why it failed: a word of `FAILURE_KINDS` (pool/failure-kind.ts), as in `AgentResponse.failureKind`. */
  failure_kind?: string;
  /** Global (hostfile) index of the agent that answered or failed. */
  agent: number;
  /** Line of the prompts file. */
  line: number;
  latency_ms?: number;
  finish_reason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * The results-file line of a prompt's response: the one record format, written by
 * `aurora-swarm run` and by the workers of `aurora-swarm job` alike.
 */
export function toResultRecord(
  prompt: { id: PromptId; lineNumber: number },
  response: AgentResponse,
): ResultRecord {
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

/** What a previous run left in a results file. */
export interface PreviousResults {
  /**
   * Keys (see `promptIdKey`) of the prompts not to send again. A compact exact set (the keys'
   * bytes outside the JS heap, for files of millions of results); iteration follows the file.
   */
  finished: Set<string>;
  /** Lines kept: successes, and failures when they are not retried. */
  kept: number;
  /** Of the lines kept, the failures (with `retryFailed: false`, or final ones). */
  keptFailures: number;
  /** Of those, failures kept although `retryFailed` is true: `isFinalFailure` said so. */
  finalFailures: number;
  /** Failed results removed so that their prompts are tried again. */
  retried: number;
  /** 1 when the last line had no newline and was cut short (a write cut by a kill), removed. */
  torn: number;
  /** Result lines whose id had a result already (two runs at once, before locking), removed. */
  duplicates: number;
}

/** Options of {@link loadPreviousResults}. */
export interface LoadPreviousResultsOptions {
  /** Whether failures are sent again: then they are removed from the file. */
  retryFailed: boolean;
  /**
   * Failures kept even with `retryFailed` (a retry cannot fix them, e.g. a prompt longer
   * than the model's context): they count as finished.
   * @default none
   */
  isFinalFailure?(record: ResultRecord): boolean;
  /** Told of each line kept (its prompt key, the record, the line as it is in the file). */
  onKept?(key: string, record: ResultRecord, line: string): void;
}

/** What reading a results file needs of a set of prompt keys. @internal */
export interface ResultKeys {
  has(key: string): boolean;
  add(key: string): unknown;
}

// Every line this tool writes starts so (JSON.stringify of a ResultRecord, id first).
const RECORD_START = '{"id":';

/** Whether an unterminated last line is a result line cut short by a kill. */
function isCutRecord(line: string): boolean {
  return line.startsWith(RECORD_START) || RECORD_START.startsWith(line);
}

function notResult(path: string, lineNumber: number, line: string): InputFileError {
  let what = 'is not a result record';
  if (line.trim() === '') what = 'is empty';
  else if (parsePromptLike(line)) what = 'is a prompt, not a result';
  return new InputFileError(
    `${path} is not a results file of aurora-swarm run (line ${lineNumber} ${what}): refusing to touch it; choose another --out`,
    { path, lineNumber },
  );
}

function parsePromptLike(line: string): boolean {
  try {
    const value = JSON.parse(line) as Record<string, unknown> | null;
    return value !== null && typeof value === 'object' && typeof value.prompt === 'string';
  } catch {
    return false;
  }
}

/** Whether the file's last byte is a newline (an empty file counts as ending in one). */
async function endsWithNewline(path: string, size: number): Promise<boolean> {
  if (size === 0) return true;
  const handle = await open(path, 'r');
  try {
    const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

/**
 * Read a results file left by an earlier run. Every complete line must be a result record
 * (`{"id", "success", ...}` as this tool writes them): anything else means the file is not a
 * results file, and it is refused untouched. Successes (and failures that are kept) count as
 * finished. Failures to retry, duplicate ids and a last line cut short by a kill (no newline
 * at the end) are removed, by rewriting the file through a temporary file and a rename, so
 * that every id ends up in the file exactly once.
 *
 * @throws {InputFileError} for a file that is not a results file, or cannot be read;
 *   nothing is changed then.
 */
export function loadPreviousResults(
  path: string,
  options: LoadPreviousResultsOptions,
): Promise<PreviousResults> {
  return readPreviousResults(path, options, () => new CompactStringSet());
}

/**
 * {@link loadPreviousResults} with the sets of keys it keeps made by `newKeys`: the finished
 * keys (returned as `finished`) and, while the file is rewritten, the keys already written.
 * `aurora-swarm run` marks its prompts' own entries instead of keeping a second set.
 * @internal
 */
export async function readPreviousResults<Keys extends ResultKeys>(
  path: string,
  options: LoadPreviousResultsOptions,
  newKeys: () => Keys,
): Promise<Omit<PreviousResults, 'finished'> & { finished: Keys }> {
  const result: Omit<PreviousResults, 'finished'> & { finished: Keys } = {
    finished: newKeys(),
    kept: 0,
    keptFailures: 0,
    finalFailures: 0,
    retried: 0,
    torn: 0,
    duplicates: 0,
  };
  let size: number;
  let terminated: boolean;
  try {
    size = (await stat(path)).size;
    terminated = await endsWithNewline(path, size);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw new InputFileError(`cannot read results file ${path}: ${describeFileError(error)}`, {
      path,
      cause: error,
    });
  }
  const retried = (record: ResultRecord) =>
    !record.success && options.retryFailed && !(options.isFinalFailure?.(record) ?? false);
  let rewrite = false;
  let lineNumber = 0;
  let pendingError: InputFileError | undefined;
  for await (const { line, record } of resultLines(path)) {
    // The previous line was not the last one, so it was complete: it had to be a record.
    if (pendingError) throw pendingError;
    lineNumber++;
    const key = record && promptIdKey(record.id);
    if (!record || key === undefined) {
      // Only the last line may be cut short; decided once we know whether it is the last.
      pendingError = notResult(path, lineNumber, line);
      if (!terminated && isCutRecord(line)) result.torn = 1;
      rewrite = true;
    } else if (result.finished.has(key)) {
      result.duplicates++;
      rewrite = true;
    } else if (retried(record)) {
      result.retried++;
      rewrite = true;
    } else {
      result.finished.add(key);
      result.kept++;
      options.onKept?.(key, record, line);
      if (!record.success) {
        result.keptFailures++;
        if (options.retryFailed) result.finalFailures++;
      }
    }
  }
  if (pendingError && result.torn === 0) throw pendingError;
  // A complete record without its newline (cut just before it) is kept and given one.
  if (rewrite || !terminated) await rewriteResults(path, retried, newKeys());
  return result;
}

/** Rewrite the file with only the lines that count as finished, atomically. */
async function rewriteResults(
  path: string,
  retried: (record: ResultRecord) => boolean,
  seen: ResultKeys,
): Promise<void> {
  const temporaryPath = `${path}.rewrite-${process.pid}`;
  const writer = createWriteStream(temporaryPath);
  for await (const { line, record } of resultLines(path)) {
    if (!record) continue;
    const key = promptIdKey(record.id);
    if (seen.has(key) || retried(record)) continue;
    seen.add(key);
    if (!writer.write(`${line}\n`)) await once(writer, 'drain');
  }
  writer.end();
  await once(writer, 'finish');
  await rename(temporaryPath, path);
}

async function* resultLines(
  path: string,
): AsyncGenerator<{ line: string; record: ResultRecord | undefined }> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) yield { line, record: parseResultLine(line) };
}

function parseResultLine(line: string): ResultRecord | undefined {
  try {
    const value = JSON.parse(line) as Partial<ResultRecord> | null;
    if (!value || typeof value !== 'object' || typeof value.success !== 'boolean') return undefined;
    if (typeof value.id !== 'string' && typeof value.id !== 'number') return undefined;
    return value as ResultRecord;
  } catch {
    return undefined;
  }
}

/**
 * Check, before any prompt is sent, that `path` can be the results file of a run reading
 * `promptsPath`: writable, not a directory, not the prompts file itself (same path or same
 * inode). Its content is checked when it is read (see {@link loadPreviousResults}).
 * @throws {InputFileError} naming the path and what is wrong; nothing is changed.
 */
export async function checkResultsPath(path: string, promptsPath?: string): Promise<void> {
  const problem = await writableFileProblem(path);
  if (problem !== undefined) {
    throw new InputFileError(`cannot write results file ${path}: ${problem}`, { path });
  }
  if (promptsPath === undefined) return;
  const [results, prompts] = await Promise.all([
    stat(path).catch(() => undefined),
    stat(promptsPath).catch(() => undefined),
  ]);
  if (results && prompts && results.dev === prompts.dev && results.ino === prompts.ino) {
    throw new InputFileError(
      `results file ${path} is the prompts file itself (--prompts ${promptsPath}): choose another --out`,
      { path },
    );
  }
}

/** Appends result lines, one `write` per line, waiting for the disk when it falls behind. */
export class ResultWriter {
  #stream: WriteStream;
  #failure: Error | undefined;

  constructor(path: string) {
    this.#stream = createWriteStream(path, { flags: 'a' });
    this.#stream.on('error', (error) => {
      this.#failure = error;
    });
  }

  /** Append one record. Resolves when the stream can take more. */
  async write(record: ResultRecord): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!this.#stream.write(`${JSON.stringify(record)}\n`)) {
      // events.once rejects when 'error' comes first, and removes both listeners either
      // way (a race with a second once(…, 'error') would leak one listener per wait).
      await once(this.#stream, 'drain');
    }
  }

  /** Flush and close the file. */
  async close(): Promise<void> {
    if (this.#stream.closed) return;
    this.#stream.end();
    await once(this.#stream, 'close');
    if (this.#failure) throw this.#failure;
  }
}
