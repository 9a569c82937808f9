import type { Command } from 'commander';
import { runAction } from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_INTERRUPTED } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { type JobFlags, subcommand, withInterruptibleJob } from '../job-cli.js';

interface CollectFlags extends JobFlags {
  out: string;
  follow?: boolean;
  trim?: boolean;
}

const PREFIX = 'aurora-swarm job collect';

async function runCollect(flags: CollectFlags, io: CliIo): Promise<number> {
  return withInterruptibleJob(
    flags,
    io,
    PREFIX,
    'what is written stays, rerun to resume',
    async (job, signal, outages) => {
      if (flags.follow) {
        io.stderr(
          `${PREFIX}: following job ${job.name} into ${flags.out} until every prompt has a result (Ctrl-C to stop)\n`,
        );
      }
      const summary = await job.collect(flags.out, {
        follow: flags.follow === true,
        trim: flags.trim === true,
        signal,
        onNotice: (message) => io.stderr(`${PREFIX}: ${message}\n`),
      });
      const status = await job.status();
      const notes: string[] = [];
      if (summary.replaced > 0)
        notes.push(
          `${summary.replaced} earlier line(s) replaced (failures retried, or cut short by a kill)`,
        );
      if (summary.trimmed > 0)
        notes.push(
          `${summary.trimmed} result(s) trimmed from Redis (this file is now their only copy)`,
        );
      const missing = status.total - summary.inFile;
      const state =
        status.done >= status.total
          ? missing > 0
            ? `the job is finished, but ${missing} result(s) are not in this file (trimmed by a collect into another file?)`
            : 'the job is finished'
          : `the job is not finished: ${status.total - status.done} prompt(s) have no result yet (rerun, or use --follow)`;
      io.stdout(
        `${PREFIX}: ${summary.interrupted ? 'interrupted: ' : ''}${summary.written} result(s) written to ${flags.out}; it has ${summary.inFile} of ${status.total} prompt(s)${summary.failedInFile > 0 ? ` (${summary.failedInFile} failed)` : ''}; ${state}` +
          `${notes.length > 0 ? `; ${notes.join('; ')}` : ''}${outages.summary()}\n`,
      );
      return summary.interrupted ? EXIT_INTERRUPTED : 0;
    },
  );
}

/** `aurora-swarm job collect`: a job's results into a results file in run's format. */
export function createJobCollectCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'collect',
    "write a job's results into a results file in run's format, every prompt once (safe to rerun into the same file; --follow streams them as they complete)",
    [
      'aurora-swarm job collect --redis redis://127.0.0.1:6379 --job survey --out results.jsonl',
      'aurora-swarm job collect --redis redis://127.0.0.1:6379 --job survey --out results.jsonl --follow --trim',
    ],
  )
    .requiredOption(
      '-o, --out <path>',
      "results file (JSONL, as run writes it), merged into if it exists; as run's --out: absent, empty or a results file, never anything else; one writer at a time (<out>.lock)",
    )
    .option('--follow', 'keep collecting results as they complete until the job is finished')
    .option(
      '--trim',
      'remove successful results from Redis once they are safely in the file (keeps Redis memory bounded; the file becomes their only copy)',
    );
  command.action((flags: CollectFlags) =>
    runAction(command, io, outcome, () => runCollect(flags, io)),
  );
  return configureCommand(command, io);
}
