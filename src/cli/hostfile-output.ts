/**
 * The hostfiles the CLI writes (`wait --output`, `mock-agents --hostfile`) replace the file
 * whole, so before any work is done the target is checked to be one the user can lose:
 * absent, empty, or a hostfile — never a user's other file (notes, a prompts file) and never
 * the hostfile being read, whose agents that are not ready would be lost with it. The same
 * rule as `run --out` (src/run/result-file.ts), for hostfiles.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HostfileError } from '../errors.js';
import { parseHostfileText } from '../hostfile/parse-hostfile-text.js';
import { writableFileProblem } from '../internal/writable-path.js';

/** Larger than any hostfile (8,000 agents take about 300 KB): not read to be parsed. */
const MAX_HOSTFILE_BYTES = 16 * 1024 * 1024;

async function isSameFile(first: string, second: string): Promise<boolean> {
  if (resolve(first) === resolve(second)) return true;
  const [a, b] = await Promise.all([stat(first), stat(second)]).catch(() => [undefined, undefined]);
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/**
 * Why a hostfile must not be written to `path`, as the end of the sentence
 * `cannot write <what> <path>: …` (it names `flag`, the option to change), or `undefined`
 * when it may be: `path` can be written (see {@link writableFileProblem}), is not `input`
 * (the hostfile being read, by path, link or inode), and is absent, empty or a hostfile.
 */
export async function hostfileOutputProblem(
  path: string,
  flag: string,
  input?: { path: string; flag: string },
): Promise<string | undefined> {
  const problem = await writableFileProblem(path);
  if (problem !== undefined) return problem;
  if (input !== undefined && (await isSameFile(path, input.path))) {
    return `it is the hostfile being waited for (${input.flag} ${input.path}); choose another ${flag}`;
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing === undefined || existing.size === 0) return undefined;
  const refuse = (why: string) =>
    `it is not a hostfile (${why}): refusing to replace it; choose another ${flag}`;
  if (existing.size > MAX_HOSTFILE_BYTES) return refuse('larger than any hostfile');
  try {
    parseHostfileText(await readFile(path, 'utf8'), { path });
  } catch (error) {
    if (!(error instanceof HostfileError)) throw error;
    return refuse(
      error.lineNumber === undefined
        ? error.message
        : `line ${error.lineNumber}: ${error.message.slice(`${path}:${error.lineNumber}: `.length)}`,
    );
  }
  return undefined;
}
