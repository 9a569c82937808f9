import { Command, Option } from 'commander';
import type { JobStatus } from '../../job/job-status.js';
import type { PromptFileFormat } from '../../run/prompt-file.js';
import { runAction, usageError } from '../cli-errors.js';
import type { CliIo, CliOutcome } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { formatTable } from '../format-table.js';
import { type JobFlags, subcommand, withJob } from '../job-cli.js';
import { createJobCollectCommand } from './job-collect-command.js';
import { createJobWorkCommand } from './job-work-command.js';

const HELP_AFTER = `
One job shared by many workers, on Redis: submit a prompts file once, start a worker per
allocation or cluster (each with its own proxy or hostfile), collect the results into
a results file in run's format. Prompts held by a worker are leased: when a worker dies,
the others take its prompts over once its lease has run out. Every prompt ends up in the
collected file exactly once. Use "aurora-swarm run" when one process is enough.

Exit codes: 0 success, 1 failure, 2 bad command line, bad input file, bad Redis URL,
Redis unreachable or refusing the password, no such job; 130 interrupted.

Examples:
  $ aurora-swarm job submit --redis redis://127.0.0.1:6379 --job survey --prompts prompts.jsonl
  $ aurora-swarm job work --redis redis://127.0.0.1:6379 --job survey --proxy http://localhost:9090
  $ aurora-swarm job status --redis redis://127.0.0.1:6379 --job survey
  $ aurora-swarm job collect --redis redis://127.0.0.1:6379 --job survey --out results.jsonl

Documentation: docs/scale-out.md`;

const FORMATS: readonly PromptFileFormat[] = ['auto', 'jsonl', 'text'];

function createSubmitCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'submit',
    'add every prompt of a prompts file to a job (created on first submit); ids already in the job are skipped',
    [
      'aurora-swarm job submit --redis redis://127.0.0.1:6379 --job survey --prompts prompts.jsonl',
      'AURORA_SWARM_REDIS_URL=redis://127.0.0.1:6379 aurora-swarm job submit --job survey -i prompts.txt --format text',
    ],
  )
    .requiredOption(
      '-i, --prompts <path>',
      'prompts file, as for run: JSONL with "id" and "prompt", or one prompt a line',
    )
    .addOption(
      new Option('--format <format>', 'how to read the prompts file')
        .choices(FORMATS as string[])
        .default('auto'),
    );
  command.action((flags: JobFlags & { prompts: string; format: PromptFileFormat }) =>
    runAction(command, io, outcome, () =>
      withJob(flags, io, async (job) => {
        const summary = await job.submit(flags.prompts, { format: flags.format });
        io.stdout(
          `aurora-swarm job submit: ${summary.count} prompt(s) in ${flags.prompts} (${summary.format}): ${summary.added} added to job ${job.name}, ${summary.alreadyInJob} already in it; the job has ${summary.jobTotal} prompt(s)\n`,
        );
        return 0;
      }),
    ),
  );
  return configureCommand(command, io);
}

/** The human form of `job status`. */
export function formatJobStatus(status: JobStatus): string {
  const lines = [
    `job ${status.job}: ${status.done} of ${status.total} prompt(s) done (${status.succeeded} succeeded, ${status.failed} failed), ${status.in_flight} in flight, ${status.queued} queued${status.done >= status.total ? ' — finished' : ''}`,
  ];
  if (status.trimmed > 0) {
    lines.push(
      `  ${status.trimmed} result(s) trimmed from Redis by collect --trim (they are in its file)`,
    );
  }
  lines.push(
    `  workers alive: ${status.workers.length}${status.silent_workers > 0 ? ` (${status.silent_workers} silent: killed or lost; their prompts pass to the others when their leases run out)` : ''}`,
  );
  if (status.workers.length > 0) {
    const table = formatTable(
      ['worker', 'origin', 'recorded', 'failed', 'in flight', 'rate/s', 'seen'],
      status.workers.map((worker) => [
        worker.name,
        worker.origin || '-',
        String(worker.recorded),
        String(worker.failed),
        String(worker.in_flight),
        worker.rate_per_second.toFixed(1),
        `${worker.last_seen_seconds.toFixed(0)}s ago`,
      ]),
    );
    lines.push(
      ...table
        .trimEnd()
        .split('\n')
        .map((line) => `    ${line}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

function createStatusCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'status',
    "a job's counts (total, done, succeeded, failed, in flight, queued) and its live workers with their rates",
    [
      'aurora-swarm job status --redis redis://127.0.0.1:6379 --job survey',
      'aurora-swarm job status --redis redis://127.0.0.1:6379 --job survey --json',
    ],
  ).option('--json', 'print the status as JSON');
  command.action((flags: JobFlags & { json?: boolean }) =>
    runAction(command, io, outcome, () =>
      withJob(flags, io, async (job) => {
        const status = await job.status();
        io.stdout(flags.json ? `${JSON.stringify(status, null, 2)}\n` : formatJobStatus(status));
        return 0;
      }),
    ),
  );
  return configureCommand(command, io);
}

function createRetryFailedCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'retry-failed',
    "put a job's failed prompts back in its queue (workers send them again; collect then replaces the failures)",
    ['aurora-swarm job retry-failed --redis redis://127.0.0.1:6379 --job survey'],
  );
  command.action((flags: JobFlags) =>
    runAction(command, io, outcome, () =>
      withJob(flags, io, async (job) => {
        const requeued = await job.retryFailed();
        io.stdout(
          `aurora-swarm job retry-failed: ${requeued} failed prompt(s) of job ${job.name} put back in the queue${requeued > 0 ? '; start a worker (job work) to send them again' : ''}\n`,
        );
        return 0;
      }),
    ),
  );
  return configureCommand(command, io);
}

function createDeleteCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'delete',
    'delete a job and everything it holds in Redis (prompts, results not yet collected); needs --yes',
    ['aurora-swarm job delete --redis redis://127.0.0.1:6379 --job survey --yes'],
  ).option('--yes', 'really delete (without it nothing is deleted)');
  command.action((flags: JobFlags & { yes?: boolean }) =>
    runAction(command, io, outcome, () =>
      withJob(flags, io, async (job) => {
        const status = await job.status();
        if (!flags.yes) {
          throw usageError(
            `this deletes job ${job.name} (${status.total} prompt(s), ${status.done} result(s)) from Redis; results not collected are lost: add --yes`,
          );
        }
        await job.delete();
        const workers = status.workers.length;
        io.stdout(
          `aurora-swarm job delete: job ${job.name} deleted (${status.total} prompt(s), ${status.done} result(s))${workers > 0 ? `; its ${workers} live worker(s) stop with an error` : ''}\n`,
        );
        return 0;
      }),
    ),
  );
  return configureCommand(command, io);
}

/** `aurora-swarm job`: one job shared by many workers and allocations, on Redis. */
export function createJobCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('job')
    .description(
      'one job shared by many workers, allocations and clusters, on Redis: submit, work, status, collect',
    )
    .addHelpText('after', HELP_AFTER);
  configureCommand(command, io);
  command.addCommand(createSubmitCommand(io, outcome));
  command.addCommand(createJobWorkCommand(io, outcome));
  command.addCommand(createStatusCommand(io, outcome));
  command.addCommand(createJobCollectCommand(io, outcome));
  command.addCommand(createRetryFailedCommand(io, outcome));
  command.addCommand(createDeleteCommand(io, outcome));
  return command;
}
