/**
 * Errors thrown by aurora-swarm for misuse and for whole-operation failures.
 *
 * A failing agent inside a fan-out is never thrown: it becomes an `AgentResponse`
 * with `success: false` and a `failureKind`. Aborts are values too: calls cut by the
 * caller's `AbortSignal` are responses with `failureKind: 'aborted'`, and whole
 * operations that return a report say `aborted: true`; only an operation whose result
 * is a bare value (`runPipeline`'s output) throws `AbortedError`. What is thrown is always one of the
 * subclasses below, each with one stable `code` (the table in docs/errors.md, kept
 * in step by test/errors/error-codes.test.ts) so callers can branch on it.
 */
import type { AgentResponse } from './pool/types.js';

/**
 * Every code an aurora-swarm error can carry. Never rename one: scripts match on
 * them. A code is added here only together with the class that throws it and its
 * row in docs/errors.md.
 */
export const SWARM_ERROR_CODES = [
  'ERR_INVALID_OPTION',
  'ERR_INVALID_ARGUMENT',
  'ERR_HOSTFILE_NOT_FOUND',
  'ERR_HOSTFILE_SYNTAX',
  'ERR_HOSTFILE_EMPTY',
  'ERR_POOL_CLOSED',
  'ERR_PROXY_START',
  'ERR_INPUT_FILE',
  'ERR_ABORTED',
  'ERR_PIPELINE_STAGE',
  'ERR_REDIS_URL',
  'ERR_REDIS_UNREACHABLE',
  'ERR_REDIS_AUTH',
  'ERR_JOB_NOT_FOUND',
  'ERR_OUTAGE_TIMEOUT',
  'ERR_FILE_LOCKED',
] as const;

/** Stable error codes. Never rename one: scripts match on them. */
export type SwarmErrorCode = (typeof SWARM_ERROR_CODES)[number];

/** Options shared by every `SwarmError` constructor. */
export interface SwarmErrorOptions {
  /** The underlying error, kept for debugging. */
  cause?: unknown;
  /** Whether repeating the same operation may succeed. @default false */
  isRetryable?: boolean;
}

/** Base class of every error aurora-swarm throws; catch it to catch them all. */
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

/**
 * A well-formed argument that cannot work: prompts for an empty sub-pool, a pool
 * constructor called with a second argument, a `StreamingCall` iterated twice.
 */
export class InvalidArgumentError extends SwarmError {
  constructor(message: string, options: SwarmErrorOptions = {}) {
    super('ERR_INVALID_ARGUMENT', message, options);
    this.name = 'InvalidArgumentError';
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

/**
 * The caller's `AbortSignal` fired during a whole operation whose result is a bare value
 * and so has no room for `aborted: true` (`runPipeline` between stages).
 */
export class AbortedError extends SwarmError {
  constructor(message = 'the operation was aborted', options: SwarmErrorOptions = {}) {
    super('ERR_ABORTED', message, options);
    this.name = 'AbortedError';
  }
}

/**
 * The proxy cannot start: its address cannot be bound (`Address already in use`,
 * permission denied, an unknown `--host`), or a `--workers` process exited before
 * listening.
 */
export class ProxyStartError extends SwarmError {
  constructor(message: string, options: SwarmErrorOptions = {}) {
    super('ERR_PROXY_START', message, options);
    this.name = 'ProxyStartError';
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

/**
 * A pipeline stage in which no agent succeeded: `runPipeline` stops there rather than pass an
 * empty input to the next stage. `stage` names it; `responses` are its agents' failed answers.
 */
export class PipelineStageError extends SwarmError {
  /** Name of the stage that failed. */
  readonly stage: string;
  /** The stage's responses, all failed, in agent order. */
  readonly responses: readonly AgentResponse[];

  constructor(message: string, details: { stage: string; responses: readonly AgentResponse[] }) {
    super('ERR_PIPELINE_STAGE', message);
    this.name = 'PipelineStageError';
    this.stage = details.stage;
    this.responses = details.responses;
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

/**
 * A job worker's Redis stayed down longer than the outage timeout. `aurora-swarm job work`
 * exits 130 on it, so a rerun resumes. (An outage of the worker's swarm ends the work as
 * interrupted instead, `stopReason: 'outage'`, as it ends a run.)
 */
export class OutageTimeoutError extends SwarmError {
  constructor(message: string, options: SwarmErrorOptions = {}) {
    super('ERR_OUTAGE_TIMEOUT', message, options);
    this.name = 'OutageTimeoutError';
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
  /** What the holder is: `run`, `job collect` (absent in locks of older versions: a run). */
  command?: string;
}

/**
 * Another process holds the lock on a file this operation must write alone (a results
 * file, written by `aurora-swarm run` or `job collect`). `holder` says who, when its lock directory tells.
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
