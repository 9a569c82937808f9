/**
 * A client's request body as the forwarder hands it to undici, with the two limits
 * that protect the login node: a size cap (`--max-body-size`, for bodies whose length
 * was not declared up front) and an idle timeout (`--body-timeout`) that only runs
 * while the proxy is waiting for the *client*: time the agent takes to read what it
 * was sent does not count, and a body that keeps arriving is never cut.
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
export class RequestBodyLimitError extends Error {
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
