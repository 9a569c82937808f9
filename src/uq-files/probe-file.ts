/**
 * Probe files: our JSON probes, and the Python original's (`np.savez(path, coef=…, intercept=…)`
 * plus an optional sidecar `<path>.json` of metadata). The UQ numerics in uq/ do no I/O; this is
 * where their files are read and written.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { InvalidOptionError } from '../errors.js';
import { type Probe, toProbe } from '../uq/ridge-probe.js';
import { readNpz } from './npy-file.js';

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
 * Read a probe (synchronous), checking its shape: a JSON file written by {@link saveProbe}, or
 * an `.npz` written by the Python original's `save_probe` (arrays `coef` and `intercept`), with
 * its sidecar `<path>.json` metadata when present. A Python probe comes back with
 * `penalizeIntercept: true` (how its `train_probe` fits), `lambda` from the metadata's
 * `ridge_alpha` (else `null`) and the metadata in `metadata`.
 * @throws {InvalidOptionError} when the file cannot be read, is not JSON or `.npz`, or is not
 *   a probe; the message names the file and the bad field.
 * @example const probe = loadProbe('probe.npz'); // trained by the Python original
 */
export function loadProbe(path: string): Probe {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : (error as Error).message;
    throw new InvalidOptionError(
      `loadProbe: cannot read probe file ${JSON.stringify(path)}: ${reason}`,
      { cause: error },
    );
  }
  // A zip archive (`PK\x03\x04`) is an .npz, whatever its name.
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return loadNpzProbe(path);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InvalidOptionError(
      `loadProbe: probe file ${JSON.stringify(path)} is neither JSON nor .npz: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return toProbe(value, `loadProbe: probe file ${JSON.stringify(path)}`);
}

function loadNpzProbe(path: string): Probe {
  const where = `loadProbe: probe file ${JSON.stringify(path)}`;
  const arrays = readNpz(path);
  const coef = arrays.coef;
  const intercept = arrays.intercept;
  if (coef === undefined || intercept === undefined) {
    throw new InvalidOptionError(
      `${where}: an .npz probe needs arrays "coef" and "intercept", found ${JSON.stringify(Object.keys(arrays))}`,
    );
  }
  if (coef.shape.length !== 1 || intercept.data.length !== 1) {
    throw new InvalidOptionError(
      `${where}: "coef" must be 1-D and "intercept" a single number, got shapes (${coef.shape.join(', ')}) and (${intercept.shape.join(', ')})`,
    );
  }
  // The Python original: meta_path = path.with_suffix(path.suffix + ".json").
  const metadataPath = `${path}.json`;
  let metadata: Record<string, unknown> | undefined;
  if (existsSync(metadataPath)) {
    try {
      metadata = JSON.parse(readFileSync(metadataPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new InvalidOptionError(
        `${where}: metadata ${JSON.stringify(metadataPath)} is not valid JSON: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  const alpha = metadata?.ridge_alpha;
  return toProbe(
    {
      kind: 'ridge-probe',
      version: 1,
      weights: coef.data,
      intercept: intercept.data[0],
      lambda: typeof alpha === 'number' && Number.isFinite(alpha) ? alpha : null,
      fitIntercept: true,
      penalizeIntercept: true,
      ...(metadata === undefined ? {} : { metadata }),
    },
    where,
  );
}
