import { rename, rm, writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { formatHostfile } from '../../hostfile/format-hostfile.js';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
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
import { formatDuration } from '../run-progress.js';

interface WaitFlags {
  hostfile?: string;
  minFraction?: number;
  minHosts?: number;
  timeout: number;
  interval: number;
  probeTimeout: number;
  output?: string;
}

const HELP_AFTER = `
Every agent's GET /health is probed concurrently, round after round, until the target is
met or --timeout seconds have passed since the start (hung hosts cannot stretch it: each
probe gives up after --probe-timeout). The ready agents are then written to --output in
hostfile order, tags kept: a hostfile for the proxy or for run.

Exit codes: 0 target met; 1 timed out (the agents ready by then are still written);
2 bad command line or hostfile; 130 interrupted (the ready agents are written).

Examples:
  $ aurora-swarm wait --hostfile hostfile.txt --output ready.txt
  $ aurora-swarm wait --hostfile hostfile.txt --min-fraction 0.9 --timeout 1800 --output ready.txt
  $ aurora-swarm wait -f hostfile.txt --min-hosts 64 --interval 10 --output ready.txt && aurora-swarm-proxy --hostfile ready.txt

Documentation: docs/cli.md`;

async function runWait(flags: WaitFlags, io: CliIo): Promise<number> {
  const hostfile = flags.hostfile ?? (io.env[HOSTFILE_ENV_VAR]?.trim() || undefined);
  if (hostfile === undefined) {
    throw usageError(`no hostfile: pass --hostfile or set ${HOSTFILE_ENV_VAR}`);
  }
  if (flags.minFraction !== undefined && flags.minHosts !== undefined) {
    throw usageError('give --min-fraction or --min-hosts, not both');
  }
  const endpoints = parseHostfile(hostfile);
  if (endpoints.length === 0) throw usageError(`No endpoints found in hostfile ${hostfile}`);
  const target =
    flags.minHosts ?? Math.max(1, Math.ceil((flags.minFraction ?? 1) * endpoints.length - 1e-9));
  if (target > endpoints.length) {
    throw usageError(
      `--min-hosts ${target} is more than the ${endpoints.length} agent(s) in ${hostfile}`,
    );
  }
  const interrupt = new AbortController();
  const stopListening = io.onSignal(() => interrupt.abort());
  try {
    io.stderr(
      `aurora-swarm wait: waiting for ${target} of ${endpoints.length} agent(s) of ${hostfile} to answer /health (timeout ${formatDuration(flags.timeout)})\n`,
    );
    let reported = -1;
    const result = await waitForAgents({
      endpoints,
      minReady: target,
      timeoutMs: flags.timeout * 1000,
      intervalMs: flags.interval * 1000,
      probeTimeoutMs: flags.probeTimeout * 1000,
      signal: interrupt.signal,
      onRound: (ready, elapsedMs) => {
        if (ready === reported) return;
        reported = ready;
        io.stderr(
          `aurora-swarm wait: ${ready}/${endpoints.length} ready after ${formatDuration(elapsedMs / 1000)}\n`,
        );
      },
    });
    const text = formatHostfile(result.ready);
    if (flags.output === undefined) io.stdout(text);
    else {
      // Written aside and renamed over the target, so a proxy watching the file
      // never reloads a half-written list.
      const temporaryPath = `${flags.output}.tmp-${process.pid}`;
      try {
        await writeFile(temporaryPath, text);
        await rename(temporaryPath, flags.output);
      } catch (error) {
        await rm(temporaryPath, { force: true });
        throw new CliError(`cannot write ${flags.output}: ${(error as Error).message}`);
      }
    }
    const where = flags.output === undefined ? 'stdout' : flags.output;
    const count = `${result.ready.length} of ${endpoints.length} agent(s) ready`;
    if (result.aborted) {
      io.stderr(`aurora-swarm wait: interrupted: ${count}, written to ${where}\n`);
      return EXIT_INTERRUPTED;
    }
    if (!result.targetMet) {
      io.stderr(
        `aurora-swarm wait: timed out after ${formatDuration(flags.timeout)}: ${count} (wanted ${target}); written to ${where}\n`,
      );
      return EXIT_FAILURE;
    }
    io.stderr(`aurora-swarm wait: ${count} (target ${target}); written to ${where}\n`);
    return 0;
  } finally {
    stopListening();
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
    .addHelpText('after', HELP_AFTER);
  command.action((flags: WaitFlags) => runAction(command, io, outcome, () => runWait(flags, io)));
  return configureCommand(command, io);
}
