/**
 * Forwarding one client request to one agent: the proxy's hot path.
 *
 * Each exchange is a small state machine that is also the undici dispatch handler,
 * so a request costs one object, one timer and one `close` listener. Bodies are
 * streamed both ways with backpressure (the agent's socket is paused while the
 * client's is full, and the client's body is read only as fast as the agent takes
 * it). The timeout bounds the wait for response headers and then every silent gap
 * in the response body; it is suspended while the *client* is the slow side, so a
 * stream that keeps producing is never cut. When the client goes away the upstream
 * request is aborted at once, which closes the agent's socket so it stops generating.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AgentStats } from './agent-stats.js';
import type { ConnectionLimiter } from './connection-limiter.js';
import {
  badResponseMessage,
  cannotConnectMessage,
  classifyUpstreamError,
  describeError,
  formatSeconds,
  sendJsonError,
  upstreamTimeoutMessage,
} from './gateway-error.js';
import { buildClientResponseHeaders, buildUpstreamRequestHead } from './hop-by-hop-headers.js';
import type { ProxyLogger } from './proxy-logger.js';

/** One agent as the forwarder sees it, prepared once at startup. */
export interface ForwardTarget {
  /** Hostfile index. */
  readonly index: number;
  /** `http://host:port`, the undici origin. */
  readonly origin: string;
  /** `host:port` (IPv6 in brackets), for messages. */
  readonly authority: string;
  /** Counters reported by `/status`. */
  readonly stats: AgentStats;
}

/** What every exchange shares: the upstream client, the limit, the settings. */
export interface ForwardContext {
  readonly dispatcher: Dispatcher;
  readonly limiter: ConnectionLimiter;
  readonly logger: ProxyLogger;
  /** Timeout when the request has no `X-Timeout`, in milliseconds. */
  readonly defaultTimeoutMs: number;
  /** Cap on `X-Timeout`, in milliseconds. */
  readonly maxTimeoutMs: number;
  /** Called once per forwarded request when it is accepted (before any queueing). */
  readonly onExchangeOpened: () => void;
  /** Called once per forwarded request when its client response closes (finished or not). */
  readonly onExchangeClosed: () => void;
}

const SECONDS_TEXT = /^\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;

/** Read an `X-Timeout` value: a positive finite number of seconds, else `undefined`. */
export function parseTimeoutSeconds(value: string): number | undefined {
  if (!SECONDS_TEXT.test(value)) return undefined;
  const seconds = Number(value);
  return seconds > 0 && Number.isFinite(seconds) ? seconds : undefined;
}

// States of an exchange.
const QUEUED = 0; // waiting for a connector slot
const AWAITING_HEADERS = 1; // sent upstream, no response headers yet
const STREAMING = 2; // relaying the response body
const DONE = 3; // the client's side is settled (answered, cut or gone)

/** The reason given to undici when the proxy abandons an upstream request. */
class ExchangeAbort extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExchangeAbort';
  }
}

class ForwardedExchange implements Dispatcher.DispatchHandler {
  readonly #context: ForwardContext;
  readonly #target: ForwardTarget;
  readonly #request: IncomingMessage;
  readonly #response: ServerResponse;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #timeoutMs: number;
  readonly #startedAt: number;
  #state = QUEUED;
  #holdsSlot = false;
  #controller: Dispatcher.DispatchController | undefined;
  #pendingAbort: Error | undefined;
  #timer: NodeJS.Timeout | undefined;
  #clientPaused = false;
  #drainListening = false;
  #bodyStarted = false;
  #statusCode = 0;

  constructor(
    context: ForwardContext,
    target: ForwardTarget,
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    headers: string[],
    hasBody: boolean,
    timeoutMs: number,
  ) {
    this.#context = context;
    this.#target = target;
    this.#request = request;
    this.#response = response;
    this.#timeoutMs = timeoutMs;
    this.#startedAt = context.logger.isEnabled('DEBUG') ? performance.now() : 0;
    this.#options = {
      origin: target.origin,
      path,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: hasBody ? request : null,
    };
    context.onExchangeOpened();
    response.once('close', this.#onClientClose);
  }

  /** Send the request upstream; the caller holds a connector slot for it. */
  readonly start = (): void => {
    if (this.#state === DONE) {
      // The client left after the slot was handed over but before we ran.
      this.#context.limiter.release();
      return;
    }
    this.#holdsSlot = true;
    this.#state = AWAITING_HEADERS;
    this.#target.stats.requests++;
    this.#target.stats.inFlight++;
    this.#timer = setTimeout(this.#onTimeout, this.#timeoutMs);
    this.#context.dispatcher.dispatch(this.#options, this);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#pendingAbort !== undefined) {
      controller.abort(this.#pendingAbort);
      return;
    }
    this.#controller = controller;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    // 1xx informational responses (103 Early Hints...) are the agent's business.
    if (statusCode < 200 || this.#state !== AWAITING_HEADERS) return;
    const response = this.#response;
    try {
      const clientHeaders = buildClientResponseHeaders(headers);
      if (statusMessage) response.writeHead(statusCode, statusMessage, clientHeaders);
      else response.writeHead(statusCode, clientHeaders);
    } catch (error) {
      // Node refused a header or reason phrase the agent sent.
      this.#target.stats.errors++;
      this.#failBeforeHeaders(502, badResponseMessage(this.#target.authority), error);
      controller.abort(new ExchangeAbort('invalid response headers'));
      return;
    }
    this.#state = STREAMING;
    this.#statusCode = statusCode;
    this.#timer?.refresh();
    // Whatever of the body arrived in the same packet (often all of it, and its end)
    // is relayed synchronously by undici; corking until the microtask sends headers,
    // body and end in one write instead of several.
    response.cork();
    queueMicrotask(this.#afterResponseStart);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#state !== STREAMING) return;
    this.#timer?.refresh();
    this.#bodyStarted = true;
    if (!this.#response.write(chunk)) {
      this.#clientPaused = true;
      controller.pause();
      if (!this.#drainListening) {
        this.#drainListening = true;
        this.#response.on('drain', this.#onDrain);
      }
    }
  }

  onResponseEnd(): void {
    if (this.#state === STREAMING) {
      this.#settle();
      this.#response.end();
      this.#logAccess('');
    }
    this.#upstreamDone();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const target = this.#target;
    if (this.#state === AWAITING_HEADERS) {
      target.stats.errors++;
      const kind = classifyUpstreamError(error);
      const message =
        kind === 'connect'
          ? cannotConnectMessage(target.authority)
          : badResponseMessage(target.authority);
      this.#failBeforeHeaders(502, message, error);
    } else if (this.#state === STREAMING) {
      target.stats.errors++;
      this.#settle();
      this.#response.destroy();
      this.#context.logger.warning(
        `agent ${target.index} (${target.authority}) failed mid-response (${describeError(error)}); cut the response to ${this.#describeRequest()}`,
      );
    }
    this.#upstreamDone();
  }

  readonly #afterResponseStart = (): void => {
    this.#response.uncork();
    // No body chunk came with the headers (an SSE stream that has not produced yet):
    // send the headers now rather than with the first chunk. (`headersSent` cannot
    // tell: it is true as soon as writeHead composed them.)
    if (this.#state === STREAMING && !this.#bodyStarted) this.#response.flushHeaders();
  };

  readonly #onDrain = (): void => {
    if (!this.#clientPaused || this.#state !== STREAMING) return;
    this.#clientPaused = false;
    this.#timer?.refresh();
    this.#controller?.resume();
  };

  readonly #onTimeout = (): void => {
    // The client is the slow side: the agent is not silent, we stopped reading it.
    // onDrain re-arms the timer.
    if (this.#clientPaused) return;
    const target = this.#target;
    if (this.#state === AWAITING_HEADERS) {
      target.stats.errors++;
      const message = upstreamTimeoutMessage(this.#timeoutMs);
      this.#failBeforeHeaders(504, message, undefined);
      this.#abortUpstream(message);
    } else if (this.#state === STREAMING) {
      target.stats.errors++;
      this.#settle();
      this.#response.destroy();
      this.#abortUpstream('response body timeout');
      this.#context.logger.warning(
        `agent ${target.index} (${target.authority}) sent nothing for ${formatSeconds(this.#timeoutMs)}s mid-response; cut the response to ${this.#describeRequest()}`,
      );
    }
  };

  readonly #onClientClose = (): void => {
    this.#context.onExchangeClosed();
    const state = this.#state;
    if (state === DONE) return;
    this.#settle();
    if (state === QUEUED) {
      // Not started: leave the queue (if start() is already scheduled it sees DONE).
      this.#context.limiter.cancel(this.start);
      return;
    }
    this.#target.stats.clientAborts++;
    this.#abortUpstream('client disconnected');
    if (this.#context.logger.isEnabled('DEBUG')) {
      this.#context.logger.debug(
        `client went away; aborted ${this.#describeRequest()} at agent ${this.#target.index}`,
      );
    }
  };

  #failBeforeHeaders(statusCode: number, message: string, error: unknown): void {
    this.#settle();
    if (!this.#response.headersSent && !this.#response.destroyed) {
      sendJsonError(this.#response, statusCode, message);
    }
    this.#statusCode = statusCode;
    this.#context.logger.warning(
      `${this.#describeRequest()} -> ${statusCode}: ${message}${error === undefined ? '' : ` (${describeError(error)})`}`,
    );
  }

  #abortUpstream(reason: string): void {
    const error = new ExchangeAbort(reason);
    if (this.#controller !== undefined) this.#controller.abort(error);
    else this.#pendingAbort = error;
  }

  /** The client's side is decided: stop the clock. */
  #settle(): void {
    this.#state = DONE;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** undici is finished with the request (ended or failed): give the slot back. */
  #upstreamDone(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#target.stats.inFlight--;
    this.#context.limiter.release();
  }

  #describeRequest(): string {
    return `${this.#request.method} ${this.#request.url}`;
  }

  #logAccess(suffix: string): void {
    const logger = this.#context.logger;
    if (!logger.isEnabled('DEBUG')) return;
    const elapsedMs = (performance.now() - this.#startedAt).toFixed(1);
    logger.debug(
      `${this.#describeRequest()} -> agent ${this.#target.index} (${this.#target.authority}) ${this.#statusCode} in ${elapsedMs} ms${suffix}`,
    );
  }
}

/**
 * Forward `request` to `target` at `path` (already cut from the request target) and
 * relay the answer into `response`. Never throws; every failure becomes an answer
 * (400 bad `X-Timeout`, 502, 504) or a cut response.
 */
export function forwardRequest(
  context: ForwardContext,
  target: ForwardTarget,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
): void {
  const head = buildUpstreamRequestHead(request.rawHeaders);
  let timeoutMs = context.defaultTimeoutMs;
  if (head.timeoutHeader !== undefined) {
    const seconds = parseTimeoutSeconds(head.timeoutHeader);
    if (seconds === undefined) {
      sendJsonError(
        response,
        400,
        `invalid X-Timeout header ${JSON.stringify(head.timeoutHeader)}: expected a positive number of seconds`,
      );
      return;
    }
    timeoutMs = Math.min(seconds * 1000, context.maxTimeoutMs);
  }
  const exchange = new ForwardedExchange(
    context,
    target,
    request,
    response,
    path,
    head.headers,
    head.hasBody,
    timeoutMs,
  );
  if (context.limiter.tryAcquire()) exchange.start();
  else context.limiter.enqueue(exchange.start);
}
