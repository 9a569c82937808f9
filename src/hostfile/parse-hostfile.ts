import { readFileSync } from 'node:fs';
import { HostfileError } from '../errors.js';
import { describeFileError } from '../internal/describe-file-error.js';
import type { AgentEndpoint } from './agent-endpoint.js';
import { parseHostfileText } from './parse-hostfile-text.js';

/**
 * Read and parse a hostfile (synchronous). An empty file gives an empty array;
 * callers that need agents decide whether that is an error.
 *
 * @throws {HostfileError} `ERR_HOSTFILE_NOT_FOUND` when the file cannot be read,
 *   `ERR_HOSTFILE_SYNTAX` with the line number when a line is malformed.
 * @example const endpoints = parseHostfile('hostfile.txt');
 */
export function parseHostfile(path: string): AgentEndpoint[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : describeFileError(error);
    throw new HostfileError('ERR_HOSTFILE_NOT_FOUND', `cannot read hostfile ${path}: ${reason}`, {
      path,
      cause: error,
    });
  }
  return parseHostfileText(text, { path });
}
