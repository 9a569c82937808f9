import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AgentEndpoint } from '../../hostfile/agent-endpoint.js';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
import { DEFAULT_OUTAGE_TIMEOUT_MS, ProxyOutageGuard } from '../../job/proxy-outage.js';
import { DEFAULT_LEASE_SECONDS, type WorkSummary } from '../../job/work-queue.js';
import {
  DEFAULT_CONCURRENCY,
  POOL_PROXY_TOKEN_ENV_VAR,
  PROXY_URL_ENV_VAR,
} from '../../pool/pool-options.js';
import type { DispatchPolicy } from '../../pool/types.js';
import { VLLMPool } from '../../pool/vllm-pool.js';
import { DEFAULT_VLLM_POOL_TIMEOUT_MS } from '../../pool/vllm-pool-options.js';
import { HOSTFILE_ENV_VAR } from '../../proxy/proxy-options.js';
import {
  positiveIntegerArgument,
  positiveSecondsArgument,
  runAction,
  urlArgument,
  usageError,
} from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_INTERRUPTED } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { type JobFlags, subcommand, withInterruptibleJob } from '../job-cli.js';
import { readProxyHosts } from '../proxy-client.js';
import { DEFAULT_PROGRESS_INTERVAL_SECONDS, formatDuration } from '../run-progress.js';
import { DISPATCH_POLICIES } from './run-command.js';

interface WorkFlags extends JobFlags {
  proxy?: string;
  hostfile?: string;
  token?: string;
  model?: string;
  concurrency: number;
  maxTokens?: number;
  timeout: number;
  lease: number;
  outageTimeout: number;
  progressInterval: number;
  name?: string;
  dispatch: DispatchPolicy;
}

const PREFIX = 'aurora-swarm job work';

function leaseArgument(value: string): number {
  const seconds = positiveSecondsArgument(value);
  if (seconds < 1) throw new InvalidArgumentError('expected at least 1 second.');
  return seconds;
}

function fromEnvironment(io: CliIo, name: string): string | undefined {
  const value = io.env[name]?.trim();
  return value ? value : undefined;
}

/** This worker's swarm: the proxy's agents (`--proxy`) or a hostfile's (direct). */
async function resolveSwarm(
  flags: WorkFlags,
  io: CliIo,
): Promise<{ endpoints: AgentEndpoint[]; proxyUrl: string | undefined; origin: string }> {
  if (flags.proxy !== undefined && flags.hostfile !== undefined) {
    throw usageError('pass --proxy or --hostfile, not both (a worker sends to one swarm)');
  }
  let proxyUrl = flags.proxy;
  const hostfile = flags.hostfile ?? (proxyUrl ? undefined : fromEnvironment(io, HOSTFILE_ENV_VAR));
  if (proxyUrl === undefined && flags.hostfile === undefined) {
    const fromEnv = fromEnvironment(io, PROXY_URL_ENV_VAR);
    if (fromEnv !== undefined) {
      try {
        proxyUrl = urlArgument(fromEnv);
      } catch (error) {
        const reason = error instanceof InvalidArgumentError ? error.message : String(error);
        throw usageError(`environment variable ${PROXY_URL_ENV_VAR}="${fromEnv}": ${reason}`);
      }
    }
  }
  if (proxyUrl !== undefined) {
    const token = flags.token ?? fromEnvironment(io, POOL_PROXY_TOKEN_ENV_VAR);
    const endpoints = await readProxyHosts(proxyUrl, token);
    if (endpoints.length === 0) throw usageError(`the proxy at ${proxyUrl} has no agents`);
    return { endpoints, proxyUrl, origin: proxyUrl };
  }
  if (hostfile === undefined) {
    throw usageError(
      `no swarm: pass --proxy URL (or set ${PROXY_URL_ENV_VAR}) or --hostfile (or set ${HOSTFILE_ENV_VAR})`,
    );
  }
  const endpoints = parseHostfile(hostfile);
  if (endpoints.length === 0) throw usageError(`No endpoints found in hostfile ${hostfile}`);
  return { endpoints, proxyUrl: undefined, origin: hostfile };
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
    extras.push(`${summary.resentAfterOutage} sent again after a proxy outage`);
  }
  return (
    `${PREFIX}: ${head}; this worker recorded ${summary.recorded} result(s) (${summary.succeeded} succeeded, ${summary.failed} failed) in ${formatDuration(seconds)} (${rate.toFixed(1)}/s)` +
    `${extras.length > 0 ? `; ${extras.join('; ')}` : ''}${outages}\n`
  );
}

async function runWork(flags: WorkFlags, io: CliIo): Promise<number> {
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
      const { endpoints, proxyUrl, origin } = await resolveSwarm(flags, io);
      const token = flags.token ?? fromEnvironment(io, POOL_PROXY_TOKEN_ENV_VAR);
      await using pool = new VLLMPool({
        endpoints,
        model: flags.model,
        proxyUrl: proxyUrl ?? null,
        proxyToken: token,
        concurrency: flags.concurrency,
        timeoutMs: flags.timeout * 1000,
        ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
      });
      const guard =
        proxyUrl === undefined
          ? undefined
          : new ProxyOutageGuard({
              proxyUrl,
              ...(token === undefined ? {} : { token }),
              outageTimeoutMs: flags.outageTimeout * 1000,
              onOutage: (event) => {
                if (event.phase !== 'lost') return;
                io.stderr(
                  `${PREFIX}: the proxy at ${event.proxyUrl} is unreachable: waiting, retrying every ${event.retryDelaysMs.map((ms) => ms / 1000).join('/')}s; the prompts held stay leased and are sent again when it answers (Ctrl-C to stop)\n`,
                );
              },
            });
      let lastLineAt = performance.now();
      let total = 0;
      try {
        const summary = await job.work({
          pool,
          concurrency: flags.concurrency,
          dispatch: flags.dispatch,
          leaseSeconds: flags.lease,
          redisOutageTimeoutMs: flags.outageTimeout * 1000,
          origin,
          signal,
          ...(guard === undefined ? {} : { outage: guard }),
          ...(flags.name === undefined ? {} : { workerName: flags.name }),
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
          onResult: (_record, progress) => {
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
      } finally {
        guard?.close();
      }
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
  )
    .addOption(
      new Option(
        '--proxy <url>',
        `send through this aurora-swarm-proxy and use its agents (falls back to ${PROXY_URL_ENV_VAR})`,
      ).argParser(urlArgument),
    )
    .option(
      '-f, --hostfile <path>',
      `send to these agents directly (falls back to ${HOSTFILE_ENV_VAR})`,
    )
    .option('--token <token>', `the proxy's token (falls back to ${POOL_PROXY_TOKEN_ENV_VAR})`)
    .option('-m, --model <name>', 'model name (default: the one the agents serve, from /v1/models)')
    .addOption(
      new Option('-c, --concurrency <count>', 'most prompts in flight at once in this worker')
        .argParser(positiveIntegerArgument)
        .default(DEFAULT_CONCURRENCY),
    )
    .addOption(
      new Option(
        '--max-tokens <count>',
        'upper bound on generated tokens per prompt (default: AURORA_SWARM_MAX_TOKENS, else 512; lowered to fit the context)',
      ).argParser(positiveIntegerArgument),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'timeout of one prompt, in seconds')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_VLLM_POOL_TIMEOUT_MS / 1000),
    )
    .addOption(
      new Option(
        '--dispatch <policy>',
        'round-robin: each prompt to the next agent in turn; least-loaded: to the agent with the fewest prompts in flight, dead agents skipped, failed connections sent to another agent',
      )
        .choices(DISPATCH_POLICIES as string[])
        .default('round-robin'),
    )
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
        '--outage-timeout <seconds>',
        'longest outage of the proxy or of Redis waited out before stopping (exit 130; nothing is lost)',
      )
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_OUTAGE_TIMEOUT_MS / 1000),
    )
    .addOption(
      new Option('--progress-interval <seconds>', 'seconds between progress lines')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_PROGRESS_INTERVAL_SECONDS),
    )
    .option('--name <name>', "this worker's name in job status (default: host:pid:random)");
  command.action((flags: WorkFlags) => runAction(command, io, outcome, () => runWork(flags, io)));
  return configureCommand(command, io);
}
