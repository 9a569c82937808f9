/**
 * What a command may touch of the outside world. The bins pass the real process;
 * tests pass their own, so the whole CLI runs in-process without exiting.
 */
export interface CliIo {
  /** Write to standard output (help, version, results). */
  stdout(text: string): void;
  /** Write to standard error (log lines, errors). */
  stderr(text: string): void;
  /** Environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Call `handler` on SIGINT or SIGTERM until the returned function is called. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
  /** Whether standard output is a terminal (tables may use colour). @default false */
  readonly stdoutIsTTY?: boolean;
  /** Whether standard error is a terminal (live progress bar, colour). @default false */
  readonly stderrIsTTY?: boolean;
  /** Width of the terminal on standard error, in columns, when it is one (0 or missing: unknown). */
  readonly stderrColumns?: number;
  /**
   * Call `handler` on SIGHUP (the conventional "reload your configuration") until
   * the returned function is called. Optional: without it, reloading by signal is off.
   */
  onReloadSignal?(handler: () => void): () => void;
}

/** Outcome of a CLI run, set by the command that ran. */
export interface CliOutcome {
  /** Process exit code. @default 0 */
  exitCode: number;
}

/** Exit code of a run that failed (a startup failure, a prompt that failed, a target not met). */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that could not be understood (unknown flag, bad value, bad input file). */
export const EXIT_USAGE = 2;
/** Exit code after SIGINT/SIGTERM stopped a command early (128 + SIGINT's number, as shells do). */
export const EXIT_INTERRUPTED = 130;

/** The real process's streams, environment and signals. */
export function processIo(): CliIo {
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
    onSignal: (handler) => {
      const listener = (signal: NodeJS.Signals) => handler(signal);
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    get stderrColumns() {
      return process.stderr.columns;
    },
    onReloadSignal: (handler) => {
      const listener = () => handler();
      process.on('SIGHUP', listener);
      return () => {
        process.off('SIGHUP', listener);
      };
    },
  };
}
