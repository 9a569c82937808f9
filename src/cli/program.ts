import { Command } from 'commander';
import type { CliIo, CliOutcome } from './cli-io.js';
import { createProxyCommand } from './commands/proxy-command.js';
import { configureCommand, runCommand } from './configure-command.js';
import { packageVersion } from './package-version.js';

/**
 * The `aurora-swarm` program with its subcommands. Add a subcommand by writing
 * `commands/<name>-command.ts` (a factory taking `io` and `outcome`) and adding it here.
 */
export function createProgram(io: CliIo, outcome: CliOutcome): Command {
  const program = new Command('aurora-swarm')
    .description('Drive a swarm of LLM agents (vLLM servers on HPC compute nodes) from one script.')
    .version(packageVersion(), '-V, --version', 'print the version and exit');
  configureCommand(program, io);
  program.addCommand(createProxyCommand(io, outcome));
  return program;
}

/** Run `aurora-swarm` with `argv` (arguments only); resolves with the exit code. */
export function runAuroraSwarm(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: CliOutcome = { exitCode: 0 };
  return runCommand(createProgram(io, outcome), argv, outcome);
}

/** Run the standalone `aurora-swarm-proxy` with `argv` (arguments only); resolves with the exit code. */
export function runAuroraSwarmProxy(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: CliOutcome = { exitCode: 0 };
  const command = createProxyCommand(io, outcome, 'aurora-swarm-proxy').version(
    packageVersion(),
    '-V, --version',
    'print the version and exit',
  );
  return runCommand(command, argv, outcome);
}
