/**
 * The client-facing side of the proxy's limits (see proxy-limits.ts): the options
 * of Node's HTTP server, the connection cap, the parser-error answers, and the checks
 * run on each request head before it is routed.
 */
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import { sendJsonError } from '../json-response.js';
import type { ProxyLogger } from '../proxy-logger.js';
import { createClientErrorListener } from './client-error.js';
import { bodyTooLargeMessage, MAX_HEADER_COUNT, type ResolvedProxyLimits } from './proxy-limits.js';
import type { RequestHeadFields } from './request-head.js';

// Long enough that a keep-alive client (undici keeps idle sockets 4 s) never races the
// server closing a connection it is about to reuse.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
// Node checks the head timeout on an interval (30 s by default); checking more often
// makes --headers-timeout close to exact at the cost of a walk over the connections.
const MAX_CHECKING_INTERVAL_MS = 1_000;
const DROP_LOG_INTERVAL_MS = 10_000;

/** Options for `http.createServer` that enforce the limits. */
export function limitedServerOptions(limits: ResolvedProxyLimits): ServerOptions {
  return {
    noDelay: true,
    // The body has no total deadline (a large prompt over a slow tunnel may take long);
    // it has an idle timeout instead, enforced while it is forwarded.
    requestTimeout: 0,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(
      10,
      Math.min(MAX_CHECKING_INTERVAL_MS, Math.floor(limits.headersTimeoutMs / 4)),
    ),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderSize: limits.maxHeaderSizeBytes,
  };
}

/**
 * Apply what `createServer` options cannot: the connection cap (connections beyond it
 * are closed as they arrive, logged at most every 10 s), the header-count cap, the
 * JSON answers to malformed requests, and no socket inactivity timeout (a generation
 * may stay silent up to `--timeout`, which the forwarder enforces).
 */
export function installServerGuards(
  server: Server,
  limits: ResolvedProxyLimits,
  logger: ProxyLogger,
): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.timeout = 0;
  server.maxConnections = limits.maxConnections;
  // One more than allowed, so that a request over the cap can be told apart and refused.
  server.maxHeadersCount = MAX_HEADER_COUNT + 1;
  let dropped = 0;
  let lastDropLogAt = Number.NEGATIVE_INFINITY;
  server.on('drop', () => {
    dropped++;
    const now = performance.now();
    if (now - lastDropLogAt < DROP_LOG_INTERVAL_MS) return;
    lastDropLogAt = now;
    logger.warning(
      `refused a connection: already ${limits.maxConnections} open (--max-connections); ${dropped} refused so far`,
    );
  });
  server.on('clientError', createClientErrorListener(limits, logger));
}

/** Send a JSON error and close the connection afterwards instead of reading the rest of the body. */
export function answerAndClose(
  response: ServerResponse,
  statusCode: number,
  message: string,
  extraHeaders?: readonly string[],
): void {
  response.shouldKeepAlive = false;
  sendJsonError(response, statusCode, message, extraHeaders);
}

/**
 * Refuse a request head over the limits: more than {@link MAX_HEADER_COUNT} header
 * lines (431) or a declared `Content-Length` above `--max-body-size` (413, before any
 * of the body is read), from the head's fields (request-head.ts). Returns whether
 * the request was answered.
 */
export function refuseOverLimit(
  request: IncomingMessage,
  response: ServerResponse,
  limits: ResolvedProxyLimits,
  head: RequestHeadFields,
): boolean {
  if (request.rawHeaders.length > 2 * MAX_HEADER_COUNT) {
    answerAndClose(response, 431, `too many header lines: at most ${MAX_HEADER_COUNT}`);
    return true;
  }
  const contentLength = head.contentLength;
  // Node's parser has already checked it is one decimal integer.
  if (contentLength !== undefined && Number(contentLength) > limits.maxBodySizeBytes) {
    answerAndClose(response, 413, bodyTooLargeMessage(limits.maxBodySizeBytes));
    return true;
  }
  return false;
}

/**
 * The request's `Content-Length`, read from `rawHeaders`: `request.headers` is built
 * lazily by Node, and this per-request path never needs the rest of it.
 */
export function declaredContentLength(request: IncomingMessage): string | undefined {
  const raw = request.rawHeaders;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return raw[index + 1];
  }
  return undefined;
}
