/**
 * The proxy's own answers: small JSON bodies, `{"error": "..."}` for every error,
 * so that clients can always parse what they get; and the two text helpers every
 * part of the proxy formats its messages with. The ground floor of src/proxy/:
 * it imports nothing of the proxy.
 */
import type { ServerResponse } from 'node:http';

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

/**
 * For the proxy's own routes, which answer `GET` and `HEAD` only: answer anything
 * else `405` with `Allow: GET, HEAD` and return false.
 */
export function allowOnlyGet(
  method: string | undefined,
  response: ServerResponse,
  path: string,
): boolean {
  if (method === 'GET' || method === 'HEAD') return true;
  sendJsonError(response, 405, `method ${method} not allowed on ${path} (use GET)`, [
    'allow',
    'GET, HEAD',
  ]);
  return false;
}
