import { type Command, CommanderError } from 'commander';
import { formatLogLine } from '../proxy/proxy-logger.js';
import { type CliIo, type CliOutcome, EXIT_USAGE } from './cli-io.js';

/**
 * Make a commander command testable and consistent: output goes through `io`,
 * errors become one log-format line (`... [ERROR] aurora_swarm.proxy: ...`), and
 * nothing calls `process.exit` (commander throws instead; see {@link runCommand}).
 */
export function configureCommand(command: Command, io: CliIo): Command {
  return command
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      outputError: (text, write) => {
        const message = text
          .replace(/^error:\s*/i, '')
          .trim()
          .replace(/\s*\n\s*/g, ' ');
        write(formatLogLine(new Date(), 'ERROR', `${message} (see --help)`));
      },
    });
}

/**
 * Parse `argv` (the arguments only, without `node` and the script) and run the
 * chosen action. Resolves with the exit code: the action's, 0 after `--help` or
 * `--version`, 2 for a command line commander rejected.
 */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  outcome: CliOutcome,
): Promise<number> {
  try {
    await command.parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
}
