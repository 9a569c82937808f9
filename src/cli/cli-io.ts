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

/** Exit code of a run that failed at startup (bad hostfile, port in use...). */
export const EXIT_FAILURE = 1;
/** Exit code of a command line that could not be understood (unknown flag, bad value). */
export const EXIT_USAGE = 2;

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
    onReloadSignal: (handler) => {
      const listener = () => handler();
      process.on('SIGHUP', listener);
      return () => {
        process.off('SIGHUP', listener);
      };
    },
  };
}
