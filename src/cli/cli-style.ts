/**
 * Colour for terminal output, off unless the stream is a terminal and `NO_COLOR`
 * (https://no-color.org) is unset or empty.
 */
import type { CliIo } from './cli-io.js';

/** Wraps text in ANSI colours, or returns it unchanged when colour is off. */
export interface CliStyle {
  readonly enabled: boolean;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

function wrap(enabled: boolean, open: number, close: number) {
  return (text: string) => (enabled ? `\u001B[${open}m${text}\u001B[${close}m` : text);
}

/** A style for standard output (`stream: 'stdout'`) or standard error. */
export function cliStyle(io: CliIo, stream: 'stdout' | 'stderr'): CliStyle {
  const noColor = io.env.NO_COLOR;
  const isTTY = stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
  const enabled = isTTY === true && (noColor === undefined || noColor === '');
  return {
    enabled,
    green: wrap(enabled, 32, 39),
    red: wrap(enabled, 31, 39),
    yellow: wrap(enabled, 33, 39),
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
  };
}
