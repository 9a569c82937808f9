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
  | 'ERR_REDIS_URL'
  | 'ERR_REDIS_UNREACHABLE'
  | 'ERR_REDIS_AUTH'
  | 'ERR_JOB_NOT_FOUND';

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

/** A prompts file (for `aurora-swarm run`) cannot be read or has a malformed line. */
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

/** Why a shared job on Redis cannot be used: a bad URL, Redis unreachable, a refused password, no such job. */
export type RedisJobErrorCode =
  | 'ERR_REDIS_URL'
  | 'ERR_REDIS_UNREACHABLE'
  | 'ERR_REDIS_AUTH'
  | 'ERR_JOB_NOT_FOUND';

/**
 * A shared job (`aurora-swarm job`, `RedisJob`) cannot start: the Redis URL is malformed,
 * nothing answers at it, it refused the password, or the named job does not exist. Thrown
 * before anything is written. Outages after a successful start are waited out, not thrown.
 */
export class RedisJobError extends SwarmError {
  constructor(code: RedisJobErrorCode, message: string, options: SwarmErrorOptions = {}) {
    super(code, message, options);
    this.name = 'RedisJobError';
  }
}
