/**
 * Limits that protect the login node the proxy shares with other users: how many
 * client connections it holds, how large request heads and bodies may be, and how
 * long a client may take to send them. Response streaming is never limited: a
 * generation may run for hours as long as it keeps producing (see `--timeout`).
 */

import { InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../internal/describe-value.js';
import { formatSeconds } from '../json-response.js';

/** Most simultaneous client connections; further ones are closed at once. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
/** Largest request head (request line and headers), in bytes: 64 KiB. */
export const DEFAULT_MAX_HEADER_SIZE_BYTES = 64 * 1024;
/** Largest request body, in bytes: 64 MiB (a 5 MiB prompt fits many times over). */
export const DEFAULT_MAX_BODY_SIZE_BYTES = 64 * 1024 * 1024;
/** Seconds a client has to send a complete request head. */
export const DEFAULT_HEADERS_TIMEOUT_SECONDS = 30;
/** Seconds a request body may stay silent while the proxy waits for more of it. */
export const DEFAULT_BODY_IDLE_TIMEOUT_SECONDS = 60;
/** Most header lines in one request; more is answered 431. */
export const MAX_HEADER_COUNT = 1000;

const LARGEST_SIZE_BYTES = 2 ** 40;
const LARGEST_TIMEOUT_SECONDS = 2_147_483;
const SIZE_TEXT = /^\s*\+?([0-9]+)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i;
const DECIMAL_TEXT = /^\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;
const UNIT_BYTES: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** The limit options of `startProxy` (flags `--max-connections` ... `--body-timeout`). */
export interface ProxyLimitOptions {
  /** Most simultaneous client connections; beyond it new connections are closed. @default 4096 */
  maxConnections?: number | string;
  /**
   * Largest request head in bytes (text may say `64k`, `1MiB`); larger heads get 431.
   * @default 65536
   */
  maxHeaderSizeBytes?: number | string;
  /**
   * Largest request body in bytes (text may say `64m`, `1GiB`); larger bodies get 413.
   * @default 67108864 (64 MiB)
   */
  maxBodySizeBytes?: number | string;
  /** Seconds a client has to send its request head; slower clients get 408. @default 30 */
  headersTimeoutSeconds?: number | string;
  /**
   * Seconds a request body may stay silent while being uploaded; then the request gets
   * 408 and is aborted at the agent. A body that keeps arriving is never cut. @default 60
   */
  bodyIdleTimeoutSeconds?: number | string;
}

/** {@link ProxyLimitOptions} validated, with defaults applied. */
export interface ResolvedProxyLimits {
  maxConnections: number;
  maxHeaderSizeBytes: number;
  maxBodySizeBytes: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
}

function invalid(flag: string, value: unknown, expected: string): InvalidOptionError {
  return new InvalidOptionError(
    `invalid value ${describeValue(value)} for ${flag}: expected ${expected}`,
  );
}

/** Parse a byte count: an integer, optionally with a binary unit (`k`, `MiB`, `g`...). */
export function parseSizeBytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE_TEXT.exec(value);
  if (match === null) return undefined;
  const unit = match[2]?.[0]?.toLowerCase();
  const bytes = Number(match[1]) * (unit === undefined ? 1 : (UNIT_BYTES[unit] as number));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function resolveSize(
  flag: string,
  value: number | string | undefined,
  fallback: number,
  minimum: number,
): number {
  if (value === undefined) return fallback;
  const bytes = parseSizeBytes(value);
  if (bytes === undefined || bytes < minimum || bytes > LARGEST_SIZE_BYTES) {
    throw invalid(
      flag,
      value,
      `a number of bytes from ${minimum} to ${LARGEST_SIZE_BYTES}, optionally with a unit (k, m, g: KiB, MiB, GiB)`,
    );
  }
  return bytes;
}

function resolveSeconds(flag: string, value: number | string | undefined, fallback: number) {
  if (value === undefined) return fallback;
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && DECIMAL_TEXT.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > LARGEST_TIMEOUT_SECONDS) {
    throw invalid(flag, value, `a positive number of seconds, at most ${LARGEST_TIMEOUT_SECONDS}`);
  }
  return seconds;
}

/**
 * Validate the limit options and apply their defaults. Pure.
 * @throws {InvalidOptionError} quoting the flag, the value and what was expected.
 */
export function resolveProxyLimits(options: ProxyLimitOptions = {}): ResolvedProxyLimits {
  const connections = options.maxConnections;
  let maxConnections = DEFAULT_MAX_CONNECTIONS;
  if (connections !== undefined) {
    const number =
      typeof connections === 'string' && /^\s*\+?[0-9]+\s*$/.test(connections)
        ? Number(connections)
        : connections;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 1e6) {
      throw invalid('--max-connections', connections, 'an integer from 1 to 1000000');
    }
    maxConnections = number;
  }
  return {
    maxConnections,
    // Below 1 KiB ordinary clients (curl, undici, browsers) could not send their headers.
    maxHeaderSizeBytes: resolveSize(
      '--max-header-size',
      options.maxHeaderSizeBytes,
      DEFAULT_MAX_HEADER_SIZE_BYTES,
      1024,
    ),
    maxBodySizeBytes: resolveSize(
      '--max-body-size',
      options.maxBodySizeBytes,
      DEFAULT_MAX_BODY_SIZE_BYTES,
      0,
    ),
    headersTimeoutMs:
      resolveSeconds(
        '--headers-timeout',
        options.headersTimeoutSeconds,
        DEFAULT_HEADERS_TIMEOUT_SECONDS,
      ) * 1000,
    bodyIdleTimeoutMs:
      resolveSeconds(
        '--body-timeout',
        options.bodyIdleTimeoutSeconds,
        DEFAULT_BODY_IDLE_TIMEOUT_SECONDS,
      ) * 1000,
  };
}

/** The 413 message for a body over `--max-body-size`. */
/** The 408 message when a client's request body stays silent for `bodyIdleTimeoutMs`. */
export function bodyIdleMessage(bodyIdleTimeoutMs: number): string {
  return `request body timeout: the client sent nothing for ${formatSeconds(bodyIdleTimeoutMs)}s (--body-timeout)`;
}

export function bodyTooLargeMessage(maxBodySizeBytes: number): string {
  return `request body too large: at most ${maxBodySizeBytes} bytes (--max-body-size)`;
}
