import { Command } from 'commander';
import type { CliIo, CliOutcome } from './cli-io.js';
import { createDemoCommand } from './commands/demo-command.js';
import { createJobCommand } from './commands/job-command.js';
import { createMockAgentsCommand } from './commands/mock-agents-command.js';
import { createProxyCommand } from './commands/proxy-command.js';
import { createRunCommand } from './commands/run-command.js';
import { createStatusCommand } from './commands/status-command.js';
import { createWaitCommand } from './commands/wait-command.js';
import { configureCommand, parseAndRun } from './configure-command.js';
import { packageVersion } from './package-version.js';

const HELP_AFTER = `
Exit codes: 0 success, 1 failure (a prompt failed, a target not met, cannot start),
2 bad command line or input file, 130 interrupted (Ctrl-C).

Examples:
  $ aurora-swarm demo
  $ aurora-swarm mock-agents --count 4 --base-port 8000 --hostfile hostfile.txt
  $ aurora-swarm proxy --hostfile hostfile.txt --port 9090
  $ aurora-swarm wait --hostfile hostfile.txt --min-fraction 0.9 --output ready.txt
  $ aurora-swarm run --hostfile ready.txt --prompts prompts.jsonl --out results.jsonl
  $ aurora-swarm status --proxy http://localhost:9090

Documentation: docs/cli.md`;

/**
 * The `aurora-swarm` program with its subcommands. Add a subcommand by writing
 * `commands/<name>-command.ts` (a factory taking `io` and `outcome`) and adding it here.
 */
export function createProgram(io: CliIo, outcome: CliOutcome): Command {
  const program = new Command('aurora-swarm')
    .description('Drive a swarm of LLM agents (vLLM servers on HPC compute nodes) from one script.')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .addHelpText('after', HELP_AFTER);
  configureCommand(program, io);
  program.addCommand(createDemoCommand(io, outcome));
  program.addCommand(createMockAgentsCommand(io, outcome));
  program.addCommand(createProxyCommand(io, outcome));
  program.addCommand(createRunCommand(io, outcome));
  program.addCommand(createWaitCommand(io, outcome));
  program.addCommand(createStatusCommand(io, outcome));
  program.addCommand(createJobCommand(io, outcome));
  return program;
}

/** Run `aurora-swarm` with `argv` (arguments only); resolves with the exit code. */
export function runAuroraSwarm(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: CliOutcome = { exitCode: 0 };
  return parseAndRun(createProgram(io, outcome), argv, outcome);
}

/** Run the standalone `aurora-swarm-proxy` with `argv` (arguments only); resolves with the exit code. */
export function runAuroraSwarmProxy(argv: readonly string[], io: CliIo): Promise<number> {
  const outcome: CliOutcome = { exitCode: 0 };
  const command = createProxyCommand(io, outcome, 'aurora-swarm-proxy').version(
    packageVersion(),
    '-V, --version',
    'print the version and exit',
  );
  return parseAndRun(command, argv, outcome);
}
