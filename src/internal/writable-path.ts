/**
 * Checks that a path can be written before any work is done, so a run or a wait never
 * does its work first and fails to save it afterwards. Internal.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { describeFileError } from './describe-file-error.js';

/**
 * Why `path` cannot be created or replaced as a regular file, in words, or `undefined` when
 * it can. Checks what writing a file aside and renaming it over `path` needs: an existing
 * directory that this process may write in, and no directory (or device) at `path`.
 */
export async function writableFileProblem(path: string): Promise<string | undefined> {
  try {
    const existing = await stat(path);
    if (existing.isDirectory()) return 'it is a directory';
    if (!existing.isFile()) return 'it is not a regular file';
    await access(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return describeFileError(error);
  }
  const directory = dirname(resolve(path));
  try {
    if (!(await stat(directory)).isDirectory()) return `${dirname(path)} is not a directory`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `directory ${dirname(path)} does not exist`;
    if (code === 'ENOTDIR') return `a part of ${dirname(path)} is not a directory`;
    return `directory ${dirname(path)}: ${describeFileError(error)}`;
  }
  try {
    await access(directory, constants.W_OK | constants.X_OK);
  } catch (error) {
    return `cannot create files in directory ${dirname(path)} (${describeFileError(error)})`;
  }
  return undefined;
}
