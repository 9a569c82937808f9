/**
 * Answers to requests Node's HTTP parser refused before the proxy saw them: malformed
 * or ambiguous framing (smuggling attempts such as `Content-Length` with
 * `Transfer-Encoding`), oversized heads, heads sent too slowly. Each gets a JSON
 * `{"error": ...}` like every other proxy error, then the connection is closed:
 * after a framing error nothing further on it can be trusted.
 */
import type { Duplex } from 'node:stream';
import { formatSeconds } from '../json-response.js';
import type { ProxyLogger } from '../proxy-logger.js';
import type { ResolvedProxyLimits } from './proxy-limits.js';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
};

/** The status and message for a parser error `code`. */
function describeClientError(
  error: NodeJS.ErrnoException & { reason?: string },
  limits: ResolvedProxyLimits,
): { statusCode: number; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        statusCode: 431,
        message: `request head too large: at most ${limits.maxHeaderSizeBytes} bytes (--max-header-size)`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        statusCode: 408,
        message: `request head not received within ${formatSeconds(limits.headersTimeoutMs)}s (--headers-timeout)`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { statusCode: 413, message: 'chunk extensions too large' };
    default: {
      const reason = typeof error.reason === 'string' ? error.reason : error.message;
      return { statusCode: 400, message: `malformed HTTP request (${error.code}: ${reason})` };
    }
  }
}

/**
 * Make the server's `clientError` listener. A socket that already carried an answer
 * (a later request on a keep-alive connection) is closed without one, since a status
 * line cannot be inserted into a response stream.
 */
export function createClientErrorListener(
  limits: ResolvedProxyLimits,
  logger: ProxyLogger,
): (error: NodeJS.ErrnoException & { reason?: string }, socket: Duplex) => void {
  return (error, socket) => {
    const bytesWritten = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    if (error.code === 'ECONNRESET' || !socket.writable || bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const { statusCode, message } = describeClientError(error, limits);
    if (logger.isEnabled('DEBUG')) logger.debug(`refused a request: ${statusCode} ${message}`);
    const payload = JSON.stringify({ error: message });
    socket.end(
      `HTTP/1.1 ${statusCode} ${REASONS[statusCode]}\r\n` +
        'content-type: application/json\r\n' +
        `content-length: ${Buffer.byteLength(payload)}\r\n` +
        'cache-control: no-store\r\n' +
        `connection: close\r\n\r\n${payload}`,
      () => socket.destroy(),
    );
    // end() keeps the socket readable; nothing more is read from a refused client.
    socket.pause();
  };
}
