/**
 * The proxy's log lines, in the format of the usage guide (Python `logging` style):
 * `2025-01-15 10:00:00 [INFO] aurora_swarm.proxy: Proxy started — listening on ...`
 * Local time, second precision, one line per message.
 */

/** Log levels, least to most severe, as the usage guide spells them. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Every level, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

/** Name of the logger in every line, as in the Python original. */
export const PROXY_LOGGER_NAME = 'aurora_swarm.proxy';

const SEVERITY: Readonly<Record<LogLevel, number>> = {
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
};

/** Where finished log lines go (each ends with a newline). */
export type LogSink = (line: string) => void;

/**
 * Read a level name in any case (`info`, `Warning`); `WARN` and `FATAL` are accepted as
 * the usual aliases. Returns `undefined` for anything else.
 */
export function parseLogLevel(text: string): LogLevel | undefined {
  const upper = text.trim().toUpperCase();
  if (upper === 'WARN') return 'WARNING';
  if (upper === 'FATAL') return 'CRITICAL';
  return (LOG_LEVELS as readonly string[]).includes(upper) ? (upper as LogLevel) : undefined;
}

function twoDigits(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** Format one log line (with its trailing newline) for `date`, in local time. */
export function formatLogLine(
  date: Date,
  level: LogLevel,
  message: string,
  loggerName = PROXY_LOGGER_NAME,
): string {
  const stamp =
    `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())} ` +
    `${twoDigits(date.getHours())}:${twoDigits(date.getMinutes())}:${twoDigits(date.getSeconds())}`;
  return `${stamp} [${level}] ${loggerName}: ${message}\n`;
}

/** A leveled logger writing the usage guide's line format to a sink. */
export class ProxyLogger {
  readonly level: LogLevel;
  readonly #threshold: number;
  readonly #sink: LogSink;

  /**
   * @param level Least severe level written. @default 'INFO'
   * @param sink Receives each formatted line.
   */
  constructor(level: LogLevel = 'INFO', sink: LogSink = () => {}) {
    this.level = level;
    this.#threshold = SEVERITY[level];
    this.#sink = sink;
  }

  /** Whether lines of `level` are written; check before building costly messages. */
  isEnabled(level: LogLevel): boolean {
    return SEVERITY[level] >= this.#threshold;
  }

  /** Write `message` at `level` if enabled. */
  log(level: LogLevel, message: string): void {
    if (SEVERITY[level] < this.#threshold) return;
    this.#sink(formatLogLine(new Date(), level, message));
  }

  debug(message: string): void {
    this.log('DEBUG', message);
  }

  info(message: string): void {
    this.log('INFO', message);
  }

  warning(message: string): void {
    this.log('WARNING', message);
  }

  error(message: string): void {
    this.log('ERROR', message);
  }

  critical(message: string): void {
    this.log('CRITICAL', message);
  }
}
