/**
 * What the `aurora-swarm job` subcommands share: the `--redis` and `--job` options, opening
 * the job with one-line errors (exit 2 for what the user typed wrong), and the Redis outage
 * line a long-running subcommand prints once per outage.
 */
import { Command } from 'commander';
import { InvalidOptionError, OutageTimeoutError, RedisJobError } from '../errors.js';
import {
  REDIS_PASSWORD_ENV_VAR,
  REDIS_URL_ENV_VAR,
  type RedisOutageEvent,
} from '../job/redis-connection.js';
import { RedisJob } from '../job/redis-job.js';
import { CliError, usageError } from './cli-errors.js';
import { type CliIo, EXIT_INTERRUPTED } from './cli-io.js';
import { formatDuration } from './run-progress.js';
import { ShutdownSignals } from './shutdown-signals.js';

/** `--redis` and `--job` after parsing. */
export interface JobFlags {
  redis?: string;
  job: string;
}

/** Add `--redis` and `--job` to a job subcommand. */
export function addJobOptions(command: Command): Command {
  return command
    .option(
      '--redis <url>',
      `Redis of the job: redis://[:password@]host[:port][/db] (falls back to ${REDIS_URL_ENV_VAR}; password also from ${REDIS_PASSWORD_ENV_VAR})`,
    )
    .requiredOption('--job <name>', "the job's name (letters, digits, '.', '_', '-')");
}

/** Outages of Redis while a subcommand runs: one line when lost, a total for the summary. */
export class RedisOutageLog {
  readonly #io: CliIo;
  readonly #prefix: string;
  #count = 0;
  #downMs = 0;

  constructor(io: CliIo, prefix: string) {
    this.#io = io;
    this.#prefix = prefix;
  }

  /** The `onOutage` of the job's connection. */
  readonly listener = (event: RedisOutageEvent, label = ''): void => {
    if (event.phase === 'lost') {
      this.#count++;
      this.#io.stderr(
        `${this.#prefix}: Redis${label ? ` at ${label}` : ''} is unreachable (${event.reason}): waiting for it, reconnecting every 2s at most; nothing held is lost (Ctrl-C to stop)\n`,
      );
    } else {
      this.#downMs += event.downMs;
    }
  };

  /** `; Redis was unreachable 2 time(s), 14s in all`, or '' when it never was. */
  summary(): string {
    if (this.#count === 0) return '';
    return `; Redis was unreachable ${this.#count} time(s), ${formatDuration(this.#downMs / 1000)} in all`;
  }
}

/**
 * Open the job for a subcommand.
 * @throws {CliError} exit 2: bad job name, no or bad URL, Redis unreachable, wrong password.
 */
export async function openJob(
  flags: JobFlags,
  io: CliIo,
  outages?: RedisOutageLog,
): Promise<RedisJob> {
  let label = '';
  try {
    const job = await RedisJob.open({
      name: flags.job,
      env: io.env,
      ...(flags.redis === undefined ? {} : { url: flags.redis }),
      ...(outages ? { onOutage: (event) => outages.listener(event, label) } : {}),
    });
    label = job.connection.label;
    return job;
  } catch (error) {
    throw asCliError(error);
  }
}

/** A thrown error as the subcommand reports it: exit 2 for input, 130 for an outage timeout. */
export function asCliError(error: unknown): unknown {
  if (error instanceof RedisJobError || error instanceof InvalidOptionError) {
    return usageError(error.message);
  }
  if (error instanceof OutageTimeoutError) {
    return new CliError(error.message, EXIT_INTERRUPTED);
  }
  return error;
}

/** Run `action` with the job open, closing it afterwards; errors become CLI errors. */
export async function withJob(
  flags: JobFlags,
  io: CliIo,
  action: (job: RedisJob) => Promise<number>,
  outages?: RedisOutageLog,
): Promise<number> {
  const job = await openJob(flags, io, outages);
  try {
    return await action(job);
  } catch (error) {
    throw asCliError(error);
  } finally {
    await job.close();
  }
}

/**
 * Run a long subcommand (`work`, `collect`) with the job open: SIGINT/SIGTERM abort the
 * signal given to `action` (after one line saying so), Redis outages are logged once each.
 */
export async function withInterruptibleJob(
  flags: JobFlags,
  io: CliIo,
  prefix: string,
  onStop: string,
  action: (job: RedisJob, signal: AbortSignal, outages: RedisOutageLog) => Promise<number>,
): Promise<number> {
  const interrupt = new AbortController();
  using signals = new ShutdownSignals(io);
  signals.handle({
    first: (signal) => {
      io.stderr(`${prefix}: ${signal}: stopping; ${onStop}\n`);
      interrupt.abort();
    },
    again: (signal) => io.stderr(`${prefix}: ${signal} again: already stopping\n`),
  });
  const outages = new RedisOutageLog(io, prefix);
  return await withJob(flags, io, (job) => action(job, interrupt.signal, outages), outages);
}

/** A `job` subcommand with `--redis`, `--job` and its examples. */
export function subcommand(name: string, description: string, examples: string[]): Command {
  const command = new Command(name).description(description);
  addJobOptions(command);
  command.addHelpText(
    'after',
    `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n\nDocumentation: docs/scale-out.md`,
  );
  return command;
}
