/**
 * Reading NumPy `.npy` files and `.npz` archives (what the Python original's UQ code writes with
 * `np.save`, `np.savez` and `np.savez_compressed`). The `.npy` format is parsed by npyjs (the
 * maintained npy parser on npm) and `.npz` archives, which are zip files, are opened by fflate
 * (zero dependencies, synchronous, stored and deflated entries); nothing here parses zip or npy
 * bytes by hand beyond checking what those libraries return.
 */
import { readFileSync } from 'node:fs';
import type { parse as parseNpy } from 'npyjs';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { fflate, npyjs } from './npz-libraries.js';

/** A numeric NumPy array: its shape and its values in row-major (C) order. */
export interface NpyArray {
  /** Dimensions, e.g. `[20, 5]`; `[]` for a 0-d array (a scalar). */
  shape: number[];
  /** The NumPy dtype without byte order, e.g. `f8`, `f4`, `i8`. */
  dtype: string;
  /** Every value, row-major (C order) whatever the file's order. */
  data: number[];
}

const NUMERIC_DTYPES = new Set(['f2', 'f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8']);

/**
 * Read a `.npy` file holding a numeric array (float, int or uint of any width, C or Fortran
 * order, little-endian as NumPy writes on every common machine).
 * @throws {InvalidOptionError} naming the file when it cannot be read, is not an `.npy` file,
 *   or holds a non-numeric, big-endian or truncated array.
 * @example readNpy('embeddings.npy').shape // [8, 1024]
 */
export function readNpy(path: string): NpyArray {
  return decodeNpy(readBytes('readNpy', path), `readNpy: ${JSON.stringify(path)}`);
}

/**
 * Read a 2-D `.npy` array as rows, e.g. embeddings `(n, d)` or hidden states, ready for
 * `semanticEntropy`, `kernelLanguageEntropy` or `trainProbe`.
 * @throws {InvalidOptionError} as {@link readNpy}, or when the array is not 2-D.
 * @example const embeddings = readNpyMatrix('embeddings.npy');
 */
export function readNpyMatrix(path: string): number[][] {
  const array = readNpy(path);
  if (array.shape.length !== 2) {
    throw new InvalidOptionError(
      `readNpyMatrix: ${JSON.stringify(path)} holds an array of shape (${array.shape.join(', ')}), expected 2-D (rows, columns)`,
    );
  }
  const [rows = 0, columns = 0] = array.shape;
  return Array.from({ length: rows }, (_, row) =>
    array.data.slice(row * columns, (row + 1) * columns),
  );
}

/**
 * Read a 1-D `.npy` array, e.g. the targets `(n,)` of a probe.
 * @throws {InvalidOptionError} as {@link readNpy}, or when the array is not 1-D.
 * @example const targets = readNpyVector('targets.npy');
 */
export function readNpyVector(path: string): number[] {
  const array = readNpy(path);
  if (array.shape.length !== 1) {
    throw new InvalidOptionError(
      `readNpyVector: ${JSON.stringify(path)} holds an array of shape (${array.shape.join(', ')}), expected 1-D`,
    );
  }
  return array.data;
}

/**
 * Read every array of an `.npz` archive (from `np.savez` or `np.savez_compressed`), by name
 * without the `.npy` suffix.
 * @throws {InvalidOptionError} naming the file when it is not a zip archive or an entry is not
 *   a numeric `.npy` array.
 * @example readNpz('probe.npz').coef.data
 */
export function readNpz(path: string): Record<string, NpyArray> {
  const where = `readNpz: ${JSON.stringify(path)}`;
  let entries: Record<string, Uint8Array>;
  try {
    entries = fflate().unzipSync(readBytes('readNpz', path));
  } catch (error) {
    throw new InvalidOptionError(`${where} is not an .npz (zip) archive: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const arrays: Record<string, NpyArray> = Object.create(null);
  for (const [name, bytes] of Object.entries(entries)) {
    if (!name.endsWith('.npy')) continue;
    arrays[name.slice(0, -'.npy'.length)] = decodeNpy(bytes, `${where}, entry ${name}`);
  }
  return arrays;
}

function readBytes(functionName: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(error);
    throw new InvalidOptionError(
      `${functionName}: cannot read ${JSON.stringify(path)}: ${reason}`,
      {
        cause: error,
      },
    );
  }
}

function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  // npyjs reads from an ArrayBuffer of its own (a copy): a Buffer may be a view into a shared pool.
  const buffer = new Uint8Array(bytes).buffer;
  let parsed: ReturnType<typeof parseNpy>;
  try {
    parsed = npyjs().parse(buffer);
  } catch (error) {
    const reason = /Unsupported dtype: >/.test(messageOf(error))
      ? 'big-endian arrays are not supported (save with .astype("<f8"))'
      : messageOf(error);
    throw new InvalidOptionError(`${where}: not a numeric .npy array: ${reason}`, {
      cause: error,
    });
  }
  if (!NUMERIC_DTYPES.has(parsed.dtype)) {
    throw new InvalidOptionError(
      `${where}: dtype ${describeValue(parsed.dtype)} is not a real number type (float, int or uint)`,
    );
  }
  const shape = parsed.shape;
  const count = shape.reduce((product, size) => product * size, 1);
  const view = parsed.data as unknown as ArrayLike<number | bigint>;
  if (view.length < count) {
    throw new InvalidOptionError(
      `${where}: truncated: shape (${shape.join(', ')}) needs ${count} values, the file holds ${view.length}`,
    );
  }
  const values = Array.from({ length: count }, (_, index) => Number(view[index]));
  return {
    shape,
    dtype: parsed.dtype,
    data: parsed.fortranOrder ? fortranToC(values, shape) : values,
  };
}

// In Fortran order the first index varies fastest; rewrite the values row-major.
function fortranToC(values: readonly number[], shape: readonly number[]): number[] {
  if (shape.length < 2) return [...values];
  const result = new Array<number>(values.length);
  const index = new Array<number>(shape.length).fill(0);
  for (let position = 0; position < values.length; position++) {
    let fortranOffset = 0;
    let stride = 1;
    for (let axis = 0; axis < shape.length; axis++) {
      fortranOffset += (index[axis] as number) * stride;
      stride *= shape[axis] as number;
    }
    result[position] = values[fortranOffset] as number;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (shape[axis] as number)) break;
      index[axis] = 0;
    }
  }
  return result;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
