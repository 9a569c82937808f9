/**
 * How subcommands report failures: one line on standard error and an exit code,
 * never a stack trace for something the user can fix.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  FileLockedError,
  HostfileError,
  InputFileError,
  InvalidOptionError,
  SwarmError,
} from '../errors.js';
import { MAX_TIMER_DELAY_SECONDS } from '../internal/timer-limit.js';
import { isUnixProxyUrl, unixProxyUrl, unixSocketPathOf } from '../internal/unix-proxy-url.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_USAGE } from './cli-io.js';
import { plainErrorLine } from './configure-command.js';

/** A failure a command reports as one line with a chosen exit code. */
export class CliError extends Error {
  /** Exit code of the process. */
  readonly exitCode: number;

  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A command-line mistake found after parsing (exit code 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/** The exit code for an error: 2 for bad input the user can fix (or a file in use), 1 otherwise. */
function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (
    error instanceof InvalidOptionError ||
    error instanceof HostfileError ||
    error instanceof InputFileError ||
    error instanceof FileLockedError
  ) {
    return EXIT_USAGE;
  }
  return EXIT_FAILURE;
}

/**
 * Run a command's action: its resolved value is the exit code; a thrown error becomes
 * one `aurora-swarm <name>: error: ...` line. Unexpected errors (bugs) keep their stack
 * when `AURORA_SWARM_DEBUG` is set.
 */
export async function runAction(
  command: Command,
  io: CliIo,
  outcome: CliOutcome,
  action: () => Promise<number>,
): Promise<void> {
  try {
    outcome.exitCode = await action();
  } catch (error) {
    const known = error instanceof CliError || error instanceof SwarmError;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(plainErrorLine(command)(message.replace(/\s*\n\s*/g, ' ')));
    if (!known && io.env.AURORA_SWARM_DEBUG && error instanceof Error && error.stack) {
      io.stderr(`${error.stack}\n`);
    }
    outcome.exitCode = exitCodeOf(error);
  }
}

/** Commander argument parser: a positive integer. */
export function positiveIntegerArgument(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return number;
}

/** Commander argument parser: an integer ≥ 0. */
export function nonNegativeIntegerArgument(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0) {
    throw new InvalidArgumentError('expected an integer ≥ 0.');
  }
  return number;
}

/** Commander argument parser: a number ≥ 0 (milliseconds, rates...). */
export function nonNegativeNumberArgument(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new InvalidArgumentError('expected a number ≥ 0.');
  }
  return number;
}

/**
 * Commander argument parser: a number of seconds > 0 (fractions allowed), at most
 * 2147483 (24.8 days, the longest a Node timer holds; the proxy's flags have the same bound).
 */
export function positiveSecondsArgument(value: string): number {
  const number = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(number) ||
    number <= 0 ||
    number > MAX_TIMER_DELAY_SECONDS
  ) {
    throw new InvalidArgumentError(
      `expected a positive number of seconds, at most ${MAX_TIMER_DELAY_SECONDS}.`,
    );
  }
  return number;
}

/** Commander argument parser: a TCP port, 0 meaning "any free port". */
export function portArgument(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0 || number > 65535) {
    throw new InvalidArgumentError('expected an integer from 0 to 65535.');
  }
  return number;
}

/** Commander argument parser: a fraction in (0, 1]. */
export function fractionArgument(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0 || number > 1) {
    throw new InvalidArgumentError('expected a number greater than 0 and at most 1.');
  }
  return number;
}

/**
 * Commander argument parser: an http(s) URL, returned without a trailing slash, or a
 * proxy's Unix socket as `unix:PATH` (returned with the path made absolute).
 */
export function urlArgument(value: string): string {
  if (isUnixProxyUrl(value)) {
    const socketPath = unixSocketPathOf(value);
    if (socketPath === undefined) {
      throw new InvalidArgumentError(
        'expected a socket path after unix:, like unix:/home/me/.aurora-swarm/proxy.sock.',
      );
    }
    return unixProxyUrl(socketPath);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL like http://localhost:9090.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('expected an http:// or https:// URL (or unix:PATH).');
  }
  return value.replace(/\/+$/, '');
}
