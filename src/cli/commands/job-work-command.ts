import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_MAX_DELIVERIES,
  type WorkSummary,
} from '../../job/work-queue.js';
import { positiveIntegerArgument, positiveSecondsArgument, runAction } from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_INTERRUPTED } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { type JobFlags, subcommand, withInterruptibleJob } from '../job-cli.js';
import { DEFAULT_PROGRESS_INTERVAL_SECONDS, formatDuration } from '../run-progress.js';
import {
  addOutageTimeoutFlag,
  addPoolFlags,
  addSwarmTargetFlags,
  chooseSwarmTarget,
  createSwarmPool,
  describeOutage,
  resolveSwarm,
  type SwarmFlags,
} from '../swarm-flags.js';

interface WorkFlags extends JobFlags, SwarmFlags {
  lease: number;
  maxDeliveries: number;
  progressInterval: number;
  name?: string;
}

const PREFIX = 'aurora-swarm job work';

function leaseArgument(value: string): number {
  const seconds = positiveSecondsArgument(value);
  if (seconds < 1) throw new InvalidArgumentError('expected at least 1 second.');
  return seconds;
}

function formatWorkSummary(summary: WorkSummary, outages: string): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? summary.recorded / seconds : 0;
  const head = summary.interrupted
    ? `interrupted: ${summary.handedBack} prompt(s) in flight handed back to the queue`
    : 'done: every prompt of the job has a result';
  const extras: string[] = [];
  if (summary.duplicates > 0) {
    extras.push(
      `${summary.duplicates} answered here after another worker took the lease over (not recorded twice)`,
    );
  }
  if (summary.resentAfterOutage > 0) {
    extras.push(`${summary.resentAfterOutage} held back by an outage and sent again`);
  }
  return (
    `${PREFIX}: ${head}; this worker recorded ${summary.recorded} result(s) (${summary.succeeded} succeeded, ${summary.failed} failed) in ${formatDuration(seconds)} (${rate.toFixed(1)}/s)` +
    `${extras.length > 0 ? `; ${extras.join('; ')}` : ''}${outages}\n`
  );
}

async function runWork(flags: WorkFlags, io: CliIo): Promise<number> {
  // Missing or contradictory swarm flags are exit 2 before Redis is reached, whatever the job's
  // state (a finished job exits 0 without looking at the swarm itself).
  chooseSwarmTarget(flags, io, 'one-of');
  return withInterruptibleJob(
    flags,
    io,
    PREFIX,
    'prompts in flight go back to the queue',
    async (job, signal, outages) => {
      // Before the swarm is looked at: a finished job needs none, a missing one is an error.
      const status = await job.status();
      if (status.done >= status.total) {
        io.stderr(
          `${PREFIX}: job ${job.name} is finished (${status.done}/${status.total} done): nothing to do\n`,
        );
        return 0;
      }
      const target = await resolveSwarm(flags, io, 'one-of');
      const { endpoints, proxyUrl } = target;
      const origin = proxyUrl ?? target.hostfile ?? '';
      await using pool = createSwarmPool(flags, target);
      let lastLineAt = performance.now();
      let total = 0;
      const summary = await job.work({
        pool,
        concurrency: flags.concurrency,
        dispatch: flags.dispatch,
        leaseSeconds: flags.lease,
        maxDeliveries: flags.maxDeliveries,
        outageTimeoutMs: flags.outageTimeout * 1000,
        origin,
        signal,
        ...(flags.name === undefined ? {} : { workerName: flags.name }),
        onOutage: (notice) => io.stderr(`${PREFIX}: ${describeOutage(notice)}\n`),
        onStart: (state) => {
          total = state.total;
          if (state.done >= state.total) {
            io.stderr(
              `${PREFIX}: job ${job.name} is finished (${state.done}/${state.total} done): nothing to do\n`,
            );
            return;
          }
          io.stderr(
            `${PREFIX}: worker ${state.worker} on job ${job.name} (${state.done}/${state.total} done): sending to ${endpoints.length} agent(s) ${proxyUrl ? `through the proxy at ${proxyUrl}` : `of ${origin} directly`}, ${flags.concurrency} at a time${flags.dispatch === 'least-loaded' ? ' (least-loaded)' : ''}, lease ${flags.lease}s\n`,
          );
        },
        onResult: (record, progress) => {
          if (record.failure_kind === 'delivery-limit') {
            io.stderr(
              `${PREFIX}: prompt ${JSON.stringify(record.id)} recorded as failed: ${record.error}\n`,
            );
          }
          const now = performance.now();
          if (now - lastLineAt < flags.progressInterval * 1000) return;
          lastLineAt = now;
          const seconds = progress.elapsedMs / 1000;
          io.stderr(
            `${PREFIX}: ${progress.recorded} recorded here (${progress.failed} failed) of ${total} in the job, ${(progress.recorded / Math.max(seconds, 0.001)).toFixed(1)}/s\n`,
          );
        },
      });
      io.stdout(formatWorkSummary(summary, outages.summary()));
      return summary.interrupted ? EXIT_INTERRUPTED : 0;
    },
  );
}

/** `aurora-swarm job work`: one worker of a shared job. */
export function createJobWorkCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = subcommand(
    'work',
    "pull a job's prompts, send them to this worker's swarm (its own proxy or hostfile), record each result in Redis; exits 0 when every prompt of the job has a result",
    [
      'aurora-swarm job work --redis redis://127.0.0.1:6379 --job survey --proxy http://localhost:9090',
      'aurora-swarm job work --redis redis://127.0.0.1:6379 --job survey --hostfile hostfile.txt --concurrency 256 --lease 120',
    ],
  );
  addSwarmTargetFlags(command, {
    proxy: 'send through this aurora-swarm-proxy and use its agents',
    hostfile: 'send to these agents directly, not with --proxy',
  });
  addPoolFlags(command, { concurrency: 'most prompts in flight at once in this worker' })
    .addOption(
      new Option(
        '--lease <seconds>',
        'how long a prompt held by a dead worker waits before another worker takes it over (live workers renew theirs)',
      )
        .argParser(leaseArgument)
        .default(DEFAULT_LEASE_SECONDS),
    )
    .addOption(
      new Option(
        '--max-deliveries <count>',
        'a prompt given to this many workers that each died or stalled before a result is recorded as failed (failure_kind delivery-limit) instead of being sent again',
      )
        .argParser(positiveIntegerArgument)
        .default(DEFAULT_MAX_DELIVERIES),
    );
  addOutageTimeoutFlag(command, ' or Redis')
    .addOption(
      new Option('--progress-interval <seconds>', 'seconds between progress lines')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_PROGRESS_INTERVAL_SECONDS),
    )
    .option('--name <name>', "this worker's name in job status (default: host:pid:random)");
  command.action((flags: WorkFlags) => runAction(command, io, outcome, () => runWork(flags, io)));
  return configureCommand(command, io);
}
