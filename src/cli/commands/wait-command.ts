import { rename, rm, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { HostfileError } from '../../errors.js';
import type { AgentEndpoint } from '../../hostfile/agent-endpoint.js';
import { formatHostfile } from '../../hostfile/format-hostfile.js';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
import { describeFileError } from '../../internal/describe-file-error.js';
import { sleep } from '../../internal/sleep.js';
import { HOSTFILE_ENV_VAR } from '../../proxy/proxy-options.js';
import {
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  DEFAULT_WAIT_INTERVAL_SECONDS,
  DEFAULT_WAIT_TIMEOUT_SECONDS,
  waitForAgents,
} from '../../readiness/wait-for-agents.js';
import {
  CliError,
  fractionArgument,
  positiveIntegerArgument,
  positiveSecondsArgument,
  runAction,
  usageError,
} from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_INTERRUPTED } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { hostfileOutputProblem } from '../hostfile-output.js';
import { formatDuration } from '../run-progress.js';
import { ShutdownSignals } from '../shutdown-signals.js';

interface WaitFlags {
  hostfile?: string;
  minFraction?: number;
  minHosts?: number;
  timeout: number;
  interval: number;
  probeTimeout: number;
  output?: string;
  outputHostfile?: string;
  hostfileTimeout?: number;
  healthTimeout?: number;
  quiet?: boolean;
  logLevel: string;
}

const HELP_AFTER = `
Every agent's GET /health is probed concurrently, round after round, until the target is
met or --timeout seconds have passed since the start (hung hosts cannot stretch it: each
probe gives up after --probe-timeout). The ready agents are then written to --output in
hostfile order, tags kept: a hostfile for the proxy or for run.

The flags of the Python scripts/wait_for_vllm_servers.py work the same way:
--hostfile-timeout waits for a hostfile that a batch job has not written yet;
--health-timeout S waits, once the first agent is ready, at most S seconds more for all of
them, then checks --min-hosts/--min-fraction (without them, one ready agent is enough),
and it waits at most S seconds for the first agent (unless --timeout is given).

Exit codes: 0 target met; 1 timed out (the agents ready by then are still written), or the
hostfile did not appear in time; 2 bad command line or hostfile, --output not writable;
130 interrupted (the ready agents are written).

Examples:
  $ aurora-swarm wait --hostfile hostfile.txt --output ready.txt
  $ aurora-swarm wait --hostfile hostfile.txt --min-fraction 0.9 --timeout 1800 --output ready.txt
  $ aurora-swarm wait -f hostfile.txt --min-hosts 64 --interval 10 --output ready.txt && aurora-swarm-proxy --hostfile ready.txt
  $ aurora-swarm wait --hostfile job_hostfile.txt --hostfile-timeout 86400 --health-timeout 1800 --output ready.txt

Documentation: docs/cli.md`;

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
type WaitLogLevel = (typeof LOG_LEVELS)[number];
/** Agents listed by name when some never became ready; the rest are counted. */
const MAX_LISTED_NOT_READY = 50;

/** The wait's log: `aurora-swarm wait: ...` lines on stderr, filtered by level. */
function waitLog(io: CliIo, level: WaitLogLevel) {
  const threshold = LOG_LEVELS.indexOf(level);
  const at = (lineLevel: WaitLogLevel) => (message: string) => {
    if (LOG_LEVELS.indexOf(lineLevel) >= threshold) io.stderr(`aurora-swarm wait: ${message}\n`);
  };
  return { debug: at('DEBUG'), info: at('INFO'), warning: at('WARNING'), error: at('ERROR') };
}

type WaitLog = ReturnType<typeof waitLog>;

/** Parse the hostfile, waiting up to `timeoutSeconds` for it to exist and parse (none: now). */
async function readHostfileWhenThere(
  hostfile: string,
  timeoutSeconds: number | undefined,
  intervalSeconds: number,
  log: WaitLog,
  signal: AbortSignal,
): Promise<AgentEndpoint[] | undefined> {
  if (timeoutSeconds === undefined) {
    let endpoints: AgentEndpoint[];
    try {
      endpoints = parseHostfile(hostfile);
    } catch (error) {
      // The Python script waits for a missing hostfile by default; here it takes a bound.
      if (error instanceof HostfileError && error.code === 'ERR_HOSTFILE_NOT_FOUND') {
        throw usageError(
          `${error.message} (to wait for a batch job to write it, add --hostfile-timeout SECONDS)`,
        );
      }
      throw error;
    }
    if (endpoints.length === 0) throw usageError(`No endpoints found in hostfile ${hostfile}`);
    return endpoints;
  }
  const deadline = performance.now() + timeoutSeconds * 1000;
  let announced = false;
  let lastProblem = 'it does not exist';
  for (;;) {
    try {
      const endpoints = parseHostfile(hostfile);
      if (endpoints.length > 0) {
        if (announced) log.info(`hostfile ${hostfile} found with ${endpoints.length} agent(s)`);
        return endpoints;
      }
      lastProblem = 'it has no endpoints';
    } catch (error) {
      lastProblem =
        error instanceof HostfileError && error.code === 'ERR_HOSTFILE_NOT_FOUND'
          ? 'it does not exist'
          : (error as Error).message;
    }
    if (!announced) {
      log.info(
        `waiting for hostfile ${hostfile} (${lastProblem}) for up to ${formatDuration(timeoutSeconds)}`,
      );
      announced = true;
    } else log.debug(`hostfile ${hostfile}: ${lastProblem}`);
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new CliError(
        `hostfile ${hostfile} did not appear within ${timeoutSeconds}s (--hostfile-timeout): ${lastProblem}`,
      );
    }
    // A stat (and a parse once it exists) per second is cheap, also on NFS.
    if (!(await sleep(Math.min(intervalSeconds * 1000, 1000, left), signal))) return undefined;
  }
}

async function runWait(flags: WaitFlags, io: CliIo, timeoutGiven: boolean): Promise<number> {
  const hostfile = flags.hostfile ?? (io.env[HOSTFILE_ENV_VAR]?.trim() || undefined);
  if (hostfile === undefined) {
    throw usageError(`no hostfile: pass --hostfile or set ${HOSTFILE_ENV_VAR}`);
  }
  if (flags.minFraction !== undefined && flags.minHosts !== undefined) {
    throw usageError('give --min-fraction or --min-hosts, not both');
  }
  const output = flags.output ?? flags.outputHostfile;
  if (output !== undefined) {
    // Checked now, not after a wait of half an hour.
    const problem = await hostfileOutputProblem(output, '--output', {
      path: hostfile,
      flag: '--hostfile',
    });
    if (problem !== undefined) throw usageError(`cannot write --output ${output}: ${problem}`);
  }
  const log = waitLog(io, flags.quiet ? 'WARNING' : (flags.logLevel.toUpperCase() as WaitLogLevel));
  const signals = new ShutdownSignals(io);
  const interrupt = new AbortController();
  signals.handle({ first: () => interrupt.abort() });
  try {
    const endpoints = await readHostfileWhenThere(
      hostfile,
      flags.hostfileTimeout,
      flags.interval,
      log,
      interrupt.signal,
    );
    if (endpoints === undefined) {
      log.warning(`interrupted while waiting for hostfile ${hostfile}`);
      return EXIT_INTERRUPTED;
    }
    const pythonMode = flags.healthTimeout !== undefined;
    const noTarget = flags.minHosts === undefined && flags.minFraction === undefined;
    const target =
      pythonMode && noTarget
        ? 1
        : (flags.minHosts ??
          Math.max(1, Math.ceil((flags.minFraction ?? 1) * endpoints.length - 1e-9)));
    if (target > endpoints.length) {
      throw usageError(
        `--min-hosts ${target} is more than the ${endpoints.length} agent(s) in ${hostfile}`,
      );
    }
    const healthTimeoutMs = pythonMode ? (flags.healthTimeout as number) * 1000 : undefined;
    const timeoutMs = pythonMode && !timeoutGiven ? Number.POSITIVE_INFINITY : flags.timeout * 1000;
    const limit = pythonMode
      ? `${timeoutGiven ? `timeout ${formatDuration(flags.timeout)}, ` : `first agent within ${formatDuration(flags.healthTimeout as number)}, `}then ${formatDuration(flags.healthTimeout as number)} for the rest`
      : `timeout ${formatDuration(flags.timeout)}`;
    log.info(
      pythonMode
        ? `waiting for the ${endpoints.length} agent(s) of ${hostfile} to answer /health, at least ${target} (${limit})`
        : `waiting for ${target} of ${endpoints.length} agent(s) of ${hostfile} to answer /health (${limit})`,
    );
    let reported = -1;
    const result = await waitForAgents({
      endpoints,
      minReady: target,
      timeoutMs,
      ...(pythonMode && !timeoutGiven ? { firstReadyTimeoutMs: healthTimeoutMs } : {}),
      ...(healthTimeoutMs === undefined ? {} : { healthTimeoutMs }),
      waitForAll: pythonMode,
      intervalMs: flags.interval * 1000,
      probeTimeoutMs: flags.probeTimeout * 1000,
      signal: interrupt.signal,
      onProbe: (index, ready, detail) => {
        const url = `${endpoints[index]?.url}/health`;
        log.debug(ready ? `OK ${url} (${detail})` : `FAIL ${url} (${detail})`);
      },
      onRound: (ready, elapsedMs) => {
        if (ready === reported) return;
        reported = ready;
        log.info(`${ready}/${endpoints.length} ready after ${formatDuration(elapsedMs / 1000)}`);
      },
    });
    const text = formatHostfile(result.ready);
    if (output === undefined) io.stdout(text);
    else {
      // Written aside and renamed over the target, so a proxy watching the file
      // never reloads a half-written list.
      const temporaryPath = `${output}.tmp-${process.pid}`;
      try {
        await writeFile(temporaryPath, text);
        await rename(temporaryPath, output);
      } catch (error) {
        await rm(temporaryPath, { force: true });
        throw new CliError(`cannot write ${output}: ${describeFileError(error)}`);
      }
    }
    if (result.notReady.length > 0 && !result.aborted) {
      for (const agent of result.notReady.slice(0, MAX_LISTED_NOT_READY)) {
        log.warning(
          `not ready: agent ${agent.index} ${agent.endpoint.host}:${agent.endpoint.port}: ${agent.lastError}`,
        );
      }
      const more = result.notReady.length - MAX_LISTED_NOT_READY;
      if (more > 0)
        log.warning(`not ready: ${more} more agent(s) (--log-level debug shows every probe)`);
    }
    const where = output === undefined ? 'stdout' : output;
    const count = `${result.ready.length} of ${endpoints.length} agent(s) ready`;
    if (result.aborted) {
      log.warning(`interrupted: ${count}, written to ${where}`);
      return EXIT_INTERRUPTED;
    }
    if (!result.targetMet) {
      log.error(
        `timed out after ${formatDuration(result.elapsedMs / 1000)}: ${count} (wanted ${target}); written to ${where}`,
      );
      return EXIT_FAILURE;
    }
    log.warning(`${count} (target ${target}); written to ${where}`);
    return 0;
  } finally {
    signals.dispose();
  }
}

/** `aurora-swarm wait`: block until enough agents are healthy, write the ready ones. */
export function createWaitCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('wait')
    .description(
      'wait until enough agents answer /health, then write the ready ones (hostfile order) for the proxy or run',
    )
    .option('-f, --hostfile <path>', `the agents (falls back to ${HOSTFILE_ENV_VAR})`)
    .addOption(
      new Option(
        '--min-fraction <fraction>',
        'the fraction of agents that must be ready (default: 1, all of them)',
      ).argParser(fractionArgument),
    )
    .addOption(
      new Option('--min-hosts <count>', 'the number of agents that must be ready').argParser(
        positiveIntegerArgument,
      ),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'give up this many seconds after the start')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_WAIT_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option('--interval <seconds>', 'seconds between two rounds of probes')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_WAIT_INTERVAL_SECONDS),
    )
    .addOption(
      new Option('--probe-timeout <seconds>', 'seconds one probe may take, connect included')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_PROBE_TIMEOUT_SECONDS),
    )
    .option('-o, --output <path>', 'write the ready agents here (default: stdout)')
    .addOption(new Option('--output-hostfile <path>', 'the same as --output').hideHelp())
    .addOption(
      new Option(
        '--hostfile-timeout <seconds>',
        'wait up to this long for the hostfile to exist and parse (default: it must exist now)',
      ).argParser(positiveSecondsArgument),
    )
    .addOption(
      new Option(
        '--health-timeout <seconds>',
        'once the first agent is ready, wait at most this long for the rest, then check the minimum (as wait_for_vllm_servers.py)',
      ).argParser(positiveSecondsArgument),
    )
    .option('-q, --quiet', 'only the result: the final line and the agents never ready')
    .addOption(
      new Option('--log-level <level>', 'DEBUG also logs every probe (OK/FAIL url (reason))')
        .choices([...LOG_LEVELS, ...LOG_LEVELS.map((level) => level.toLowerCase())])
        .default('INFO'),
    )
    .addHelpText('after', HELP_AFTER);
  command.action((flags: WaitFlags) =>
    runAction(command, io, outcome, () =>
      runWait(flags, io, command.getOptionValueSource('timeout') === 'cli'),
    ),
  );
  return configureCommand(command, io);
}
