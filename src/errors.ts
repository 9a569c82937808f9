/**
 * Errors thrown by aurora-swarm for misuse and for whole-operation failures.
 *
 * A failing agent inside a fan-out is never thrown: it becomes an `AgentResponse`
 * with `success: false`. What is thrown is always a `SwarmError` with a stable
 * `code` (documented in docs/errors.md) so callers can branch on it.
 */

/** Stable error codes. Never rename one: scripts match on them. */
export type SwarmErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_HOSTFILE_NOT_FOUND'
  | 'ERR_HOSTFILE_SYNTAX'
  | 'ERR_HOSTFILE_EMPTY'
  | 'ERR_POOL_CLOSED'
  | 'ERR_AGENT_INDEX'
  | 'ERR_ABORTED'
  | 'ERR_TIMEOUT'
  | 'ERR_CONNECT'
  | 'ERR_HTTP_STATUS'
  | 'ERR_BAD_RESPONSE'
  | 'ERR_PROXY_START'
  | 'ERR_INPUT_FILE'
  | 'ERR_FILE_LOCKED';

/** Options shared by every `SwarmError` constructor. */
export interface SwarmErrorOptions {
  /** The underlying error, kept for debugging. */
  cause?: unknown;
  /** Whether repeating the same operation may succeed. @default false */
  isRetryable?: boolean;
}

/** Base class of every error aurora-swarm throws. */
export class SwarmError extends Error {
  /** Stable machine-readable code, e.g. `ERR_INVALID_OPTION`. */
  readonly code: SwarmErrorCode;
  /** Whether the same operation may succeed if tried again. */
  readonly isRetryable: boolean;

  constructor(code: SwarmErrorCode, message: string, options: SwarmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwarmError';
    this.code = code;
    this.isRetryable = options.isRetryable ?? false;
  }
}

/** An option or argument has a wrong type or value. The message quotes the option, the value and what was expected. */
export class InvalidOptionError extends SwarmError {
  constructor(message: string, options: SwarmErrorOptions = {}) {
    super('ERR_INVALID_OPTION', message, options);
    this.name = 'InvalidOptionError';
  }
}

/** A hostfile could not be read or parsed. `path` and `lineNumber` (1-based) say where. */
export class HostfileError extends SwarmError {
  /** Path of the hostfile, or `<text>` when parsing a string. */
  readonly path: string;
  /** 1-based line number of the offending line, when there is one. */
  readonly lineNumber: number | undefined;

  constructor(
    code: 'ERR_HOSTFILE_NOT_FOUND' | 'ERR_HOSTFILE_SYNTAX' | 'ERR_HOSTFILE_EMPTY',
    message: string,
    details: { path: string; lineNumber?: number; cause?: unknown },
  ) {
    super(code, message, { cause: details.cause });
    this.name = 'HostfileError';
    this.path = details.path;
    this.lineNumber = details.lineNumber;
  }
}

/** An operation was called on a pool after `close()`. */
export class PoolClosedError extends SwarmError {
  constructor(message = 'the pool is closed') {
    super('ERR_POOL_CLOSED', message);
    this.name = 'PoolClosedError';
  }
}

/** The caller's `AbortSignal` fired. */
export class AbortedError extends SwarmError {
  constructor(message = 'the operation was aborted', options: SwarmErrorOptions = {}) {
    super('ERR_ABORTED', message, options);
    this.name = 'AbortedError';
  }
}

/** Format a value for an error message: strings quoted, everything else via JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === undefined) return 'undefined';
  try {
    return `${JSON.stringify(value)} (${Array.isArray(value) ? 'array' : typeof value})`;
  } catch {
    return `a ${typeof value}`;
  }
}

/**
 * A file given to `aurora-swarm run` cannot be used: a prompts file that cannot be read or has
 * a malformed line, or a results file that is not one (or cannot be written).
 */
export class InputFileError extends SwarmError {
  /** Path of the file. */
  readonly path: string;
  /** 1-based line number of the offending line, when there is one. */
  readonly lineNumber: number | undefined;

  constructor(message: string, details: { path: string; lineNumber?: number; cause?: unknown }) {
    super('ERR_INPUT_FILE', message, { cause: details.cause });
    this.name = 'InputFileError';
    this.path = details.path;
    this.lineNumber = details.lineNumber;
  }
}

/** Who holds a file lock, as far as its lock directory tells. */
export interface FileLockHolder {
  /** Process id of the holder (on `host`). */
  pid: number;
  /** Host name of the machine the holder runs on. */
  host: string;
  /** When the holder took the lock (ISO 8601). */
  startedAt: string;
}

/**
 * Another process holds the lock on a file this operation must write alone (the results
 * file of `aurora-swarm run`). `holder` says who, when its lock directory tells.
 */
export class FileLockedError extends SwarmError {
  /** Path of the locked file. */
  readonly path: string;
  /** The process holding the lock, when known. */
  readonly holder: FileLockHolder | undefined;

  constructor(message: string, details: { path: string; holder?: FileLockHolder }) {
    super('ERR_FILE_LOCKED', message);
    this.name = 'FileLockedError';
    this.path = details.path;
    this.holder = details.holder;
  }
}
