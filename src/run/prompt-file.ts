/**
 * Prompts files for `aurora-swarm run`: JSONL (`{"id": …, "prompt": …}` a line) or
 * plain text (one prompt a line, its id the line number). Read as a stream, so a
 * file of millions of prompts needs memory for one line at a time.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputFileError } from '../errors.js';
import { CompactStringSet } from '../internal/compact-string-set.js';
import { describeFileError } from '../internal/describe-file-error.js';

/** A prompt's id: the JSONL `id` as written, or the 1-based line number. */
export type PromptId = string | number;

/** One prompt of a prompts file. */
export interface PromptRecord {
  id: PromptId;
  prompt: string;
  /** 1-based line of the file it came from. */
  lineNumber: number;
  /** How the line was read. */
  format: 'jsonl' | 'text';
}

/** How a prompts file is read. `auto`: JSONL when the first non-blank line starts with `{`. */
export type PromptFileFormat = 'auto' | 'jsonl' | 'text';

/** What {@link scanPromptFile} found. */
export interface PromptFileSummary {
  format: 'jsonl' | 'text';
  /** Number of prompts (blank lines do not count). */
  count: number;
  /** The ids' keys (see {@link promptIdKey}), when asked for with `keepIds`. */
  ids?: ReadonlySet<string>;
}

/** The key under which an id is remembered: `1` and `"1"` are different ids. */
export function promptIdKey(id: PromptId): string {
  return typeof id === 'number' ? `#${id}` : `"${id}`;
}

/**
 * Read every prompt of a file in order, validating each line.
 * @throws {InputFileError} naming the file and line for a malformed line.
 */
export async function* readPromptFile(
  path: string,
  format: PromptFileFormat = 'auto',
): AsyncGenerator<PromptRecord> {
  let resolved: 'jsonl' | 'text' | undefined = format === 'auto' ? undefined : format;
  let lineNumber = 0;
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error) => reject(error));
  });
  // In words, as the other file errors: `no such file or directory`, `it is a directory`
  // (a directory opens, and fails at the first read).
  const unreadable = (error: unknown) =>
    new InputFileError(`cannot read prompts file ${path}: ${describeFileError(error)}`, {
      path,
      cause: error,
    });
  try {
    await opened;
  } catch (error) {
    throw unreadable(error);
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const rawLine of lines) {
      lineNumber++;
      const line = lineNumber === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
      if (line.trim() === '') continue;
      resolved ??= line.trimStart().startsWith('{') ? 'jsonl' : 'text';
      yield resolved === 'text'
        ? { id: lineNumber, prompt: line, lineNumber, format: 'text' }
        : parseJsonLine(line, path, lineNumber);
    }
  } catch (error) {
    if (
      error instanceof InputFileError ||
      typeof (error as { code?: unknown })?.code !== 'string'
    ) {
      throw error;
    }
    throw unreadable(error);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Options of {@link scanPromptFile}. */
export interface ScanPromptFileOptions {
  /** Return the ids' keys as `ids`. @default false */
  keepIds?: boolean;
}

/**
 * Read a whole prompts file once without keeping the prompts, to count them and to
 * fail before any GPU time is spent: malformed lines and duplicate ids are errors.
 * Memory: the ids' keys, compactly (their bytes plus ~15 bytes an id, outside the JS heap:
 * see compact-string-set.ts), returned as `ids` with `keepIds: true`.
 * @throws {InputFileError}
 */
export async function scanPromptFile(
  path: string,
  format: PromptFileFormat = 'auto',
  options: ScanPromptFileOptions = {},
): Promise<PromptFileSummary> {
  const scanned = await scanPromptIds(path, format);
  const summary: PromptFileSummary = { format: scanned.format, count: scanned.count };
  if (options.keepIds) summary.ids = scanned.ids;
  return summary;
}

/** {@link scanPromptFile}'s work, the ids as entries of a `CompactStringSet`. @internal */
export async function scanPromptIds(
  path: string,
  format: PromptFileFormat,
  newSet: () => CompactStringSet = () => new CompactStringSet(),
): Promise<{ format: 'jsonl' | 'text'; count: number; ids: CompactStringSet }> {
  const seen = newSet();
  // Line of each id, by its entry number in `seen` (for a duplicate's message): 4 bytes an id.
  let lines = new Uint32Array(1024);
  let detected: 'jsonl' | 'text' = format === 'jsonl' ? 'jsonl' : 'text';
  for await (const record of readPromptFile(path, format)) {
    if (seen.size === 0 && format === 'auto') detected = record.format;
    const key = promptIdKey(record.id);
    if (!seen.insert(key)) {
      const first = lines[seen.entryOf(key)];
      throw new InputFileError(
        `${path}:${record.lineNumber}: duplicate id ${JSON.stringify(record.id)} (first on line ${first})`,
        {
          path,
          lineNumber: record.lineNumber,
        },
      );
    }
    const entry = seen.size - 1;
    if (entry >= lines.length) {
      const grown = new Uint32Array(lines.length * 2);
      grown.set(lines);
      lines = grown;
    }
    lines[entry] = record.lineNumber;
  }
  return { format: detected, count: seen.size, ids: seen };
}

function parseJsonLine(line: string, path: string, lineNumber: number): PromptRecord {
  const fail = (message: string): never => {
    throw new InputFileError(`${path}:${lineNumber}: ${message}`, { path, lineNumber });
  };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    fail('expected a JSON object with a "prompt"');
  const { id, prompt } = value as { id?: unknown; prompt?: unknown };
  if (typeof prompt !== 'string')
    fail(
      `"prompt" must be a string, got ${prompt === undefined ? 'nothing' : JSON.stringify(prompt)}`,
    );
  if (
    id !== undefined &&
    typeof id !== 'string' &&
    !(typeof id === 'number' && Number.isFinite(id))
  ) {
    fail(`"id" must be a string or a number, got ${JSON.stringify(id)}`);
  }
  return {
    id: (id as PromptId | undefined) ?? lineNumber,
    prompt: prompt as string,
    lineNumber,
    format: 'jsonl',
  };
}
