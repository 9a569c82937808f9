/**
 * A client's request body as the forwarder hands it to undici, with the two limits
 * that protect the login node: a size cap (`--max-body-size`, for bodies whose length
 * was not declared up front) and an idle timeout (`--body-timeout`) that only runs
 * while the proxy is waiting for the *client*: time the agent takes to read what it
 * was sent does not count, and a body that keeps arriving is never cut.
 *
 * Two forms, because this is the hot path: a body with a declared `Content-Length`
 * (checked against the cap before forwarding, and held to that length by Node's
 * parser) goes to undici as the request stream itself, watched by one timer
 * ({@link watchDeclaredBody}); only a chunked body of unknown length is read through
 * the counting async iterator ({@link guardRequestBody}), which costs about 100 µs
 * of CPU per request more (bench/README.md).
 */
import type { IncomingMessage } from 'node:http';

/** What the forwarder does when a limit is hit; both are called at most once, before the body fails. */
export interface RequestBodyLimitHandler {
  /** More than the allowed bytes arrived. */
  onBodyTooLarge(): void;
  /** The client sent nothing for the idle timeout. */
  onBodyIdle(): void;
}

/** Raised into undici's body reader so the upstream request fails rather than ends. */
class RequestBodyLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestBodyLimitError';
  }
}

/**
 * Wrap `request` as an async iterable of its chunks under the limits. Reading it does
 * not destroy the client's socket when the upstream side stops early: the proxy may
 * still owe the client an answer.
 */
export function guardRequestBody(
  request: IncomingMessage,
  maxBodySizeBytes: number,
  idleTimeoutMs: number,
  handler: RequestBodyLimitHandler,
): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      let receivedBytes = 0;
      let waitingForClient = true;
      const timer = setTimeout(function onIdle() {
        if (!waitingForClient) {
          timer.refresh();
          return;
        }
        handler.onBodyIdle();
      }, idleTimeoutMs);
      timer.unref();
      try {
        for await (const chunk of request.iterator({
          destroyOnReturn: false,
        }) as AsyncIterable<Buffer>) {
          receivedBytes += chunk.length;
          if (receivedBytes > maxBodySizeBytes) {
            handler.onBodyTooLarge();
            throw new RequestBodyLimitError('request body too large');
          }
          waitingForClient = false;
          yield chunk;
          waitingForClient = true;
          timer.refresh();
        }
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Watch a body of declared length for the idle timeout without touching the stream
 * (undici reads it). Every `idleTimeoutMs` the timer looks at the client's socket: new
 * bytes, bytes waiting in the request's buffer, or a stream paused by undici (the
 * agent is the slow side) mean the client is not idle. So an idle client is caught
 * between one and two timeouts after its last byte. Returns a function that stops
 * the watch; it also stops by itself once the body is complete.
 */
export function watchDeclaredBody(
  request: IncomingMessage,
  idleTimeoutMs: number,
  handler: RequestBodyLimitHandler,
): () => void {
  const socket = request.socket;
  let lastBytesRead = socket.bytesRead;
  const timer = setTimeout(function onCheck() {
    if (request.complete || request.destroyed) return;
    const bytesRead = socket.bytesRead;
    if (bytesRead !== lastBytesRead || request.readableLength > 0 || request.isPaused()) {
      lastBytesRead = bytesRead;
      timer.refresh();
      return;
    }
    handler.onBodyIdle();
  }, idleTimeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}
