/**
 * Upstream failures before the agent's response headers: how an undici error is
 * classified (the agent is not serving, or its answer is not HTTP) and the 502/504
 * messages the client gets for each.
 */
import { formatSeconds } from '../json-response.js';

/** How an upstream failure before the response headers is reported. */
export type UpstreamFailureKind = 'connect' | 'bad-response';

const BAD_RESPONSE_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);

/**
 * Classify an undici error raised before the agent's response headers arrived.
 * Refused, unreachable, unresolvable, reset or closed-before-answering are all
 * `connect` (the agent is not serving); an unparseable answer is `bad-response`.
 */
export function classifyUpstreamError(error: unknown): UpstreamFailureKind {
  const { code, name } = (error ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && (code.startsWith('HPE_') || BAD_RESPONSE_CODES.has(code))) {
    return 'bad-response';
  }
  // undici leaves `code` undefined for some parser errors (an invalid status line).
  if (name === 'HTTPParserError') return 'bad-response';
  return 'connect';
}

/** `cannot connect to host:port`, the 502 message of an agent that is not serving. */
export function cannotConnectMessage(authority: string): string {
  return `cannot connect to ${authority}`;
}

/** The 502 message of an agent whose answer is not valid HTTP. */
export function badResponseMessage(authority: string): string {
  return `invalid response from ${authority}`;
}

/** `upstream timeout after Ns`, the 504 message; `N` as the user wrote it (0.2, 300). */
export function upstreamTimeoutMessage(timeoutMs: number): string {
  return `upstream timeout after ${formatSeconds(timeoutMs)}s`;
}
