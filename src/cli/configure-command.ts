import { type Command, CommanderError } from 'commander';
import { type CliIo, type CliOutcome, EXIT_USAGE } from './cli-io.js';

/** Turns a one-line error message into the line written to standard error (with its newline). */
export type ErrorLineFormat = (message: string) => string;

/** `aurora-swarm run` for a subcommand, `aurora-swarm` for the root. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) {
    names.unshift(current.name());
  }
  return names.join(' ');
}

/** The usual CLI error line: `aurora-swarm run: error: <message>`. */
export function plainErrorLine(command: Command): ErrorLineFormat {
  return (message) => `${commandPath(command)}: error: ${message}\n`;
}

/**
 * Make a commander command testable and consistent: output goes through `io`,
 * errors become one line (by default `aurora-swarm run: error: ...`; the proxy passes
 * its log format), and nothing calls `process.exit` (commander throws instead; see
 * {@link parseAndRun}).
 */
export function configureCommand(
  command: Command,
  io: CliIo,
  errorLine: ErrorLineFormat = plainErrorLine(command),
): Command {
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
        write(errorLine(`${message} (see --help)`));
      },
    });
}

/**
 * Parse `argv` (the arguments only, without `node` and the script) and run the
 * chosen action. Resolves with the exit code: the action's, 0 after `--help` or
 * `--version`, 2 for a command line commander rejected.
 */
export async function parseAndRun(
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
