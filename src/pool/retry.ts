/**
 * When and how long to wait before retrying a request.
 *
 * Only failures that happened before the agent could have produced anything are
 * retried: the connection could not be made (or was closed before any answer),
 * or a 502/503 arrived (a gateway or a server that is starting). Everything else,
 * and anything after a caller's abort, is final.
 */

/** Upper bound of one wait between attempts, whatever `Retry-After` asks for. */
export const MAX_RETRY_DELAY_MS = 30_000;

// Connection-level failures worth another try: the agent may be restarting, or the
// proxy may be briefly saturated. ENOTFOUND is not here: a name that does not
// resolve will not start resolving a second later.
const RETRYABLE_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a connection error (by its `code`) may succeed on another attempt. */
export function isRetryableErrorCode(code: string | undefined): boolean {
  return code !== undefined && RETRYABLE_ERROR_CODES.has(code);
}

/** Whether an HTTP status means "try again shortly" (and nothing was generated). */
export function isRetryableStatus(status: number): boolean {
  return status === 502 || status === 503;
}

/**
 * Delay before retry number `retryNumber` (0 for the first retry): exponential from
 * `baseDelayMs` with "equal jitter" (half fixed, half random) so thousands of calls
 * that failed together do not come back together. A `Retry-After` header (seconds
 * or an HTTP date) raises the delay to what the server asked for.
 */
export function retryDelayMs(
  retryNumber: number,
  baseDelayMs: number,
  retryAfter: string | undefined,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseDelayMs * 2 ** retryNumber);
  const jittered = exponential / 2 + random() * (exponential / 2);
  const requested = parseRetryAfterMs(retryAfter);
  const delay = requested === undefined ? jittered : Math.max(jittered, requested);
  return Math.min(MAX_RETRY_DELAY_MS, Math.round(delay));
}

/** `Retry-After` in milliseconds (delta-seconds or HTTP date), or `undefined`. */
export function parseRetryAfterMs(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
