/** The only I/O of the UQ module: probes stored as JSON files. */
import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidOptionError } from '../errors.js';
import { type Probe, toProbe } from '../uq/ridge-probe.js';

/**
 * Write a probe to `path` as JSON (synchronous; replaces an existing file).
 * @throws {InvalidOptionError} when `probe` is malformed or the file cannot be written.
 * @example saveProbe(probe, 'entropy-probe.json')
 */
export function saveProbe(probe: Probe, path: string): void {
  const checked = toProbe(probe, 'saveProbe: probe');
  try {
    writeFileSync(path, `${JSON.stringify(checked, null, 2)}\n`, 'utf8');
  } catch (error) {
    throw new InvalidOptionError(
      `saveProbe: cannot write probe file ${JSON.stringify(path)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Read a probe written by {@link saveProbe} (synchronous), checking its shape.
 * @throws {InvalidOptionError} when the file cannot be read, is not JSON, or is
 *   not a probe; the message names the file and the bad field.
 * @example const probe = loadProbe('entropy-probe.json');
 */
export function loadProbe(path: string): Probe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (error as Error).message;
    throw new InvalidOptionError(
      `loadProbe: cannot read probe file ${JSON.stringify(path)}: ${reason}`,
      {
        cause: error,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidOptionError(
      `loadProbe: probe file ${JSON.stringify(path)} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return toProbe(value, `loadProbe: probe file ${JSON.stringify(path)}`);
}
