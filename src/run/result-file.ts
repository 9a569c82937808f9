/**
 * The results file of `aurora-swarm run`: one JSON line per prompt, appended as
 * results arrive, and read back on a rerun to skip what is already done.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InputFileError } from '../errors.js';
import { type PromptId, promptIdKey } from './prompt-file.js';

/** One line of a results file. */
export interface ResultRecord {
  id: PromptId;
  success: boolean;
  /** The answer (successes only). */
  text?: string;
  /** What went wrong (failures only). */
  error?: string;
  /** Category of a failure: timeout, connect, http, agent-error, context-overflow, … */
  failure_kind?: string;
  /** Global (hostfile) index of the agent that answered or failed. */
  agent: number;
  /** Line of the prompts file. */
  line: number;
  latency_ms?: number;
  finish_reason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** What a previous run left in a results file. */
export interface PreviousResults {
  /** Keys (see `promptIdKey`) of the prompts not to send again. */
  finished: Set<string>;
  /** Lines kept: successes, and failures when they are not retried. */
  kept: number;
  /** Of the lines kept, the failures (only with `retryFailed: false`). */
  keptFailures: number;
  /** Failed results removed so that their prompts are tried again. */
  retried: number;
  /** Lines removed because a killed run left them cut short or unreadable. */
  torn: number;
}

/**
 * Read a results file left by an earlier run. Successes (and, with
 * `retryFailed: false`, failures) count as finished. Failures to retry and a last
 * line cut short by a kill are removed, by rewriting the file through a temporary
 * file and a rename, so that every id ends up in the file exactly once.
 */
export async function loadPreviousResults(
  path: string,
  options: { retryFailed: boolean },
): Promise<PreviousResults> {
  const result: PreviousResults = {
    finished: new Set(),
    kept: 0,
    keptFailures: 0,
    retried: 0,
    torn: 0,
  };
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw new InputFileError(`cannot read results file ${path}: ${(error as Error).message}`, {
      path,
      cause: error,
    });
  }
  let keptBytes = 0;
  let rewrite = false;
  for await (const { line, record } of resultLines(path)) {
    const key = record && promptIdKey(record.id);
    if (!record || key === undefined) {
      if (line.trim() !== '') result.torn++;
      rewrite = true;
    } else if (result.finished.has(key)) {
      rewrite = true;
    } else if (!record.success && options.retryFailed) {
      result.retried++;
      rewrite = true;
    } else {
      result.finished.add(key);
      result.kept++;
      if (!record.success) result.keptFailures++;
      keptBytes += Buffer.byteLength(line) + 1;
    }
  }
  // A file that does not end in a newline was cut by a kill mid-line.
  if (rewrite || keptBytes !== size) await rewriteResults(path, options);
  return result;
}

/** Rewrite the file with only the lines that count as finished, atomically. */
async function rewriteResults(path: string, options: { retryFailed: boolean }): Promise<void> {
  const temporaryPath = `${path}.rewrite-${process.pid}`;
  const writer = createWriteStream(temporaryPath);
  const seen = new Set<string>();
  for await (const { line, record } of resultLines(path)) {
    if (!record) continue;
    const key = promptIdKey(record.id);
    if (seen.has(key) || (!record.success && options.retryFailed)) continue;
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
