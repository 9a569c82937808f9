import type { ServerResponse } from 'node:http';

/**
 * The proxy's own answers: small JSON bodies, `{"error": "..."}` for every error,
 * so that clients can always parse what they get.
 */

/** Send `body` as a complete JSON response. */
export function sendJson(
  response: ServerResponse,
  statusCode: number,
  body: unknown,
  extraHeaders?: readonly string[],
): void {
  const payload = JSON.stringify(body);
  const headers = [
    'content-type',
    'application/json',
    'content-length',
    String(Buffer.byteLength(payload)),
    'cache-control',
    'no-store',
  ];
  if (extraHeaders !== undefined) headers.push(...extraHeaders);
  response.writeHead(statusCode, headers);
  response.end(payload);
}

/** Send `text` as a complete response of type `contentType`. */
export function sendText(
  response: ServerResponse,
  statusCode: number,
  contentType: string,
  text: string,
): void {
  response.writeHead(statusCode, [
    'content-type',
    contentType,
    'content-length',
    String(Buffer.byteLength(text)),
    'cache-control',
    'no-store',
  ]);
  response.end(text);
}

/** Send `{"error": message}` with `statusCode`. */
export function sendJsonError(
  response: ServerResponse,
  statusCode: number,
  message: string,
  extraHeaders?: readonly string[],
): void {
  sendJson(response, statusCode, { error: message }, extraHeaders);
}

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

/** Milliseconds as seconds without floating-point noise: 200 → `0.2`, 1100 → `1.1`. */
export function formatSeconds(milliseconds: number): string {
  return String(Number((milliseconds / 1000).toPrecision(12)));
}

/** A short description of an error for log lines: its code and message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${typeof code === 'string' ? `${code}: ` : ''}${error.message}${cause}`;
  }
  return String(error);
}
