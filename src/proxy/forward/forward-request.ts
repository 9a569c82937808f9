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
 *
 * A pooled request (`/v1/*`) has no target until it is sent: a selector picks one
 * when the connector slot is taken (so the in-flight counts it compares are
 * current), and picks another if the first cannot be reached — only when no byte
 * of the answer exists yet and the body can be sent again.
 *
 * Longer than most files on purpose: the exchange is one state machine, and its
 * transitions (and the counters they move) read best side by side.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Client, Dispatcher } from 'undici';
import type { ForwardTarget } from '../agents/agent-targets.js';
import type { ConnectionLimiter } from '../agents/connection-limiter.js';
import {
  guardRequestBody,
  type RequestBodyLimitHandler,
  watchDeclaredBody,
} from '../guards/guarded-request-body.js';
import { bodyIdleMessage, bodyTooLargeMessage } from '../guards/proxy-limits.js';
import { declaredContentLength } from '../guards/server-guards.js';
import type { HealthMonitor } from '../health/health-monitor.js';
import { describeError, formatSeconds, sendJsonError } from '../json-response.js';
import { AGENT_INDEX_HEADER, MAX_POOLED_ATTEMPTS } from '../proxy-constants.js';
import type { ProxyLogger } from '../proxy-logger.js';
import { type ProxyMetrics, statusClassSlot } from '../proxy-metrics.js';
import {
  badResponseMessage,
  cannotConnectMessage,
  classifyUpstreamError,
  upstreamTimeoutMessage,
} from './gateway-error.js';
import {
  buildClientResponseHeaders,
  buildUpstreamRequestHead,
  type UpstreamRequestHead,
} from './hop-by-hop-headers.js';

/** Picks the agent of a pooled request. */
export interface TargetSelector {
  /** A healthy agent not in `tried` (the agents that could not be reached), if any. */
  pick(tried: readonly ForwardTarget[] | undefined): ForwardTarget | undefined;
  /** The 503 message when no agent can be picked at all. */
  unavailableMessage(): string;
  /** Whether the request body can be sent again (none, or buffered whole). */
  readonly replayable: boolean;
}

export { AGENT_INDEX_HEADER, MAX_POOLED_ATTEMPTS };

/** What every exchange shares: the limit, the settings (connections are the targets'). */
export interface ForwardContext {
  readonly limiter: ConnectionLimiter;
  readonly logger: ProxyLogger;
  readonly metrics: ProxyMetrics;
  readonly health: HealthMonitor;
  /** Timeout when the request has no `X-Timeout`, in milliseconds. */
  readonly defaultTimeoutMs: number;
  /** Cap on `X-Timeout`, in milliseconds. */
  readonly maxTimeoutMs: number;
  /** Largest request body, in bytes (`--max-body-size`). */
  readonly maxBodySizeBytes: number;
  /** How long a request body may stay silent, in milliseconds (`--body-timeout`). */
  readonly bodyIdleTimeoutMs: number;
  /** Called once per forwarded request when it is accepted (before any queueing). */
  readonly onExchangeOpened: () => void;
  /** Called once per forwarded request when its client response closes (finished or not). */
  readonly onExchangeClosed: () => void;
}

const SECONDS_TEXT = /^\s*\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;

/** Read an `X-Timeout` value: a positive finite number of seconds, else `undefined`. */
function parseTimeoutSeconds(value: string): number | undefined {
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

/** The exchange at the head of a client connection (the one its next bytes would answer). */
const HEAD_EXCHANGE = Symbol('headExchange');

interface ClientSocket extends Socket {
  [HEAD_EXCHANGE]?: ForwardedExchange | undefined;
}

/**
 * For the server, on each client connection's `end`: the client closed its side. Node's
 * server ends the connection then (HTTP here is not half-open), so no answer can reach
 * the client any more; the exchange it was waiting for is abandoned at once, not a loop
 * iteration or two later when the socket has closed — a request the client sends next on
 * another connection must not find it still in flight. (A pipelined request behind it
 * goes when the socket closes.)
 */
export function onClientConnectionEnd(this: Socket): void {
  (this as ClientSocket)[HEAD_EXCHANGE]?.clientLeft();
}

class ForwardedExchange implements Dispatcher.DispatchHandler, RequestBodyLimitHandler {
  readonly #context: ForwardContext;
  // Assigned by the constructor, or by start() for a pooled request, before any use.
  #target: ForwardTarget;
  readonly #selector: TargetSelector | undefined;
  #tried: ForwardTarget[] | undefined;
  readonly #request: IncomingMessage;
  readonly #response: ServerResponse;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #timeoutMs: number;
  readonly #startedAt: number;
  #sentAt = 0;
  #state = QUEUED;
  #holdsSlot = false;
  /** The agent whose in-flight count holds this exchange (the current attempt's), if any. */
  #countedAt: ForwardTarget | undefined;
  /** The connection carrying the request, from the target's pool, until it is handed back. */
  #client: Client | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #clientPaused = false;
  #onDrain: (() => void) | undefined;
  #bodyStarted = false;
  #stopBodyWatch: (() => void) | undefined;
  #statusCode = 0;
  readonly #socket: ClientSocket;

  constructor(
    context: ForwardContext,
    target: ForwardTarget | undefined,
    selector: TargetSelector | undefined,
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    headers: string[],
    body: IncomingMessage | Buffer | null,
    declaredLength: boolean,
    timeoutMs: number,
  ) {
    this.#context = context;
    this.#target = target as ForwardTarget;
    this.#selector = selector;
    this.#request = request;
    this.#response = response;
    this.#timeoutMs = timeoutMs;
    this.#startedAt = context.logger.isEnabled('DEBUG') ? performance.now() : 0;
    this.#options = {
      path,
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: this.#guardBody(body, declaredLength, context),
    };
    context.onExchangeOpened();
    // The one closure of an exchange ('close' is emitted once: no `once` wrapper needed).
    response.on('close', () => this.#onClientClose());
    const socket = request.socket as ClientSocket;
    this.#socket = socket;
    if (socket[HEAD_EXCHANGE] === undefined) socket[HEAD_EXCHANGE] = this;
  }

  /**
   * The body undici sends, under the size cap and idle timeout. A replayable body was
   * already read whole under the same limits; a declared length was checked against
   * the cap on arrival, so the stream goes as it is, watched by one timer; a chunked
   * body is counted as it passes (undici streams any async iterable, though its type
   * lists only Readable).
   */
  #guardBody(
    body: IncomingMessage | Buffer | null,
    declaredLength: boolean,
    context: ForwardContext,
  ): Readable | Buffer | null {
    if (body === null || Buffer.isBuffer(body)) return body;
    if (declaredLength) {
      this.#stopBodyWatch = watchDeclaredBody(body, context.bodyIdleTimeoutMs, this);
      return body;
    }
    return guardRequestBody(
      body,
      context.maxBodySizeBytes,
      context.bodyIdleTimeoutMs,
      this,
    ) as unknown as Readable;
  }

  /** Send the request upstream; the caller holds a connector slot for it. */
  start(): void {
    if (this.#state === DONE) {
      // The client left after the slot was handed over but before we ran.
      this.#context.limiter.release();
      return;
    }
    const selector = this.#selector;
    if (selector !== undefined) {
      const picked = selector.pick(undefined);
      if (picked === undefined) {
        // Every matching agent turned unhealthy while this request was queued.
        this.#context.limiter.release();
        this.#context.metrics.noHealthyAgent++;
        this.#settle();
        sendJsonError(this.#response, 503, selector.unavailableMessage());
        return;
      }
      this.#target = picked;
    }
    this.#holdsSlot = true;
    this.#state = AWAITING_HEADERS;
    this.#context.metrics.forwarded++;
    this.#timer = setTimeout(ForwardedExchange.#onTimer, this.#timeoutMs, this);
    this.#send(this.#target);
  }

  /** Send the request to `target` on one of its connections (first attempt or retry). */
  #send(target: ForwardTarget): void {
    this.#target = target;
    target.stats.requests++;
    target.stats.inFlight++;
    this.#countedAt = target;
    this.#sentAt = performance.now();
    const client = target.connections.acquire();
    this.#client = client;
    client.dispatch(this.#options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    // 1xx informational responses (103 Early Hints...) are the agent's business.
    if (statusCode < 200 || this.#state !== AWAITING_HEADERS) return;
    const response = this.#response;
    const target = this.#target;
    // The agent answers: whatever failed before is not a streak any more.
    target.health.consecutiveFailures = 0;
    const ttfbMs = performance.now() - this.#sentAt;
    target.stats.ttfbMs.add(ttfbMs);
    this.#context.metrics.timeToFirstByte.observe(ttfbMs / 1000);
    try {
      const clientHeaders = buildClientResponseHeaders(headers);
      if (this.#selector !== undefined)
        clientHeaders.push(AGENT_INDEX_HEADER, String(target.index));
      if (statusMessage) response.writeHead(statusCode, statusMessage, clientHeaders);
      else response.writeHead(statusCode, clientHeaders);
    } catch (error) {
      // Node refused a header or reason phrase the agent sent.
      target.stats.errors++;
      this.#context.metrics.badResponses++;
      this.#failBeforeHeaders(502, badResponseMessage(target.authority), error);
      this.#abandonUpstream('invalid response headers');
      return;
    }
    (target.statusCounts[statusClassSlot(statusCode)] as number)++;
    this.#state = STREAMING;
    this.#statusCode = statusCode;
    this.#timer?.refresh();
    // Whatever of the body arrived in the same packet (often all of it, and its end) is
    // relayed synchronously by undici, and Node corks the client's socket from the first
    // write to the next tick: headers, body and end leave in one write. An answer whose
    // length is not declared (an SSE stream) may have nothing more to send for a while:
    // its headers go out at the next tick rather than with its first chunk.
    if (headers['content-length'] === undefined) {
      process.nextTick(ForwardedExchange.#flushHeadersIfIdle, this);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#state !== STREAMING) return;
    this.#timer?.refresh();
    this.#bodyStarted = true;
    this.#context.metrics.responseBytes += chunk.length;
    if (!this.#response.write(chunk)) {
      this.#clientPaused = true;
      controller.pause();
      if (this.#onDrain === undefined) {
        // Off the fast path: only a client slower than its agent gets here.
        this.#onDrain = () => this.#drained();
        this.#response.on('drain', this.#onDrain);
      }
    }
  }

  onResponseEnd(): void {
    if (this.#state === STREAMING) {
      const elapsedMs = performance.now() - this.#sentAt;
      this.#target.stats.latencyMs.add(elapsedMs);
      this.#context.metrics.requestDuration.observe(elapsedMs / 1000);
      this.#settle();
      this.#response.end();
      this.#logAccess('');
    }
    // The connection served its request to the end: it can serve the next one.
    const client = this.#client;
    if (client !== undefined) {
      this.#client = undefined;
      this.#target.connections.release(client);
    }
    this.#upstreamDone();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const target = this.#target;
    const metrics = this.#context.metrics;
    // Whatever went wrong, that connection is not used again.
    this.#dropConnection(error);
    if (this.#state === AWAITING_HEADERS) {
      target.stats.errors++;
      let message: string;
      if (classifyUpstreamError(error) === 'connect') {
        metrics.connectFailures++;
        this.#context.health.reportConnectFailure(target, error);
        if (this.#retryElsewhere(error)) return;
        const tried = this.#tried ?? [target];
        message = cannotConnectMessage(tried.map((agent) => agent.authority).join(', '));
      } else {
        metrics.badResponses++;
        message = badResponseMessage(target.authority);
      }
      this.#failBeforeHeaders(502, message, error);
    } else if (this.#state === STREAMING) {
      target.stats.errors++;
      metrics.midStreamFailures++;
      this.#settle();
      this.#response.destroy();
      const message = `failed mid-response (${describeError(error)})`;
      target.stats.recordError(message);
      this.#context.logger.warning(
        `agent ${target.index} (${target.authority}) ${message}; cut the response to ${this.#describeRequest()}`,
      );
    }
    this.#upstreamDone();
  }

  /**
   * Send a pooled request to another agent after a connection failure, when that
   * is safe: nothing was sent to the client and the body can be sent again.
   * Returns whether it did.
   */
  #retryElsewhere(error: unknown): boolean {
    const selector = this.#selector;
    if (selector === undefined || !selector.replayable || this.#response.headersSent) return false;
    const previous = this.#target;
    this.#tried ??= [];
    this.#tried.push(previous);
    if (this.#tried.length >= MAX_POOLED_ATTEMPTS) return false;
    const next = selector.pick(this.#tried);
    if (next === undefined) return false;
    this.#context.logger.warning(
      `${this.#describeRequest()}: cannot connect to agent ${previous.index} (${previous.authority}) (${describeError(error)}); retrying on agent ${next.index} (${next.authority})`,
    );
    this.#context.metrics.retries++;
    this.#leaveAgent();
    this.#controller = undefined;
    this.#timer?.refresh();
    // Not from inside undici's error callback for the previous attempt.
    process.nextTick(ForwardedExchange.#sendAgain, this, next);
    return true;
  }

  static #sendAgain(exchange: ForwardedExchange, next: ForwardTarget): void {
    // The client left in between: nothing to send (the slot goes back).
    if (exchange.#state !== AWAITING_HEADERS) exchange.#upstreamDone();
    else exchange.#send(next);
  }

  static #flushHeadersIfIdle(exchange: ForwardedExchange): void {
    // No body chunk came with the headers (an SSE stream that has not produced yet):
    // send the headers now. (`headersSent` cannot tell: it is true as soon as writeHead
    // composed them.)
    if (exchange.#state === STREAMING && !exchange.#bodyStarted) exchange.#response.flushHeaders();
  }

  #drained(): void {
    if (!this.#clientPaused || this.#state !== STREAMING) return;
    this.#clientPaused = false;
    this.#timer?.refresh();
    this.#controller?.resume();
  }

  static #onTimer(exchange: ForwardedExchange): void {
    exchange.#onTimeout();
  }

  #onTimeout(): void {
    // The client is the slow side: the agent is not silent, we stopped reading it.
    // #drained re-arms the timer.
    if (this.#clientPaused) return;
    const target = this.#target;
    if (this.#state === AWAITING_HEADERS) {
      target.stats.errors++;
      this.#context.metrics.headersTimeouts++;
      const message = upstreamTimeoutMessage(this.#timeoutMs);
      this.#failBeforeHeaders(504, message, undefined);
      this.#abandonUpstream(message);
    } else if (this.#state === STREAMING) {
      target.stats.errors++;
      this.#context.metrics.bodyTimeouts++;
      this.#settle();
      this.#response.destroy();
      this.#abandonUpstream('response body timeout');
      const message = `sent nothing for ${formatSeconds(this.#timeoutMs)}s mid-response`;
      target.stats.recordError(message);
      this.#context.logger.warning(
        `agent ${target.index} (${target.authority}) ${message}; cut the response to ${this.#describeRequest()}`,
      );
    }
  }

  onBodyTooLarge(): void {
    this.#failOnClientBody(413, bodyTooLargeMessage(this.#context.maxBodySizeBytes));
  }

  onBodyIdle(): void {
    this.#failOnClientBody(408, bodyIdleMessage(this.#context.bodyIdleTimeoutMs));
  }

  /** The client broke a body limit: answer it (or cut it), close its connection, abort upstream. */
  #failOnClientBody(statusCode: number, message: string): void {
    const state = this.#state;
    if (state === DONE) return;
    // The rest of the body is not read: the connection cannot carry another request.
    this.#response.shouldKeepAlive = false;
    if (state === STREAMING) {
      this.#settle();
      this.#response.destroy();
      this.#context.logger.warning(`${this.#describeRequest()}: ${message}; cut the response`);
    } else {
      this.#failBeforeHeaders(statusCode, message, undefined);
    }
    this.#abandonUpstream(message);
  }

  #onClientClose(): void {
    this.#context.onExchangeClosed();
    this.clientLeft();
  }

  /** The client closed its connection (or its side of it): abandon what is still running. */
  clientLeft(): void {
    if (this.#socket[HEAD_EXCHANGE] === this) this.#socket[HEAD_EXCHANGE] = undefined;
    const state = this.#state;
    if (state === DONE) return;
    this.#settle();
    this.#context.metrics.clientDisconnects++;
    if (state === QUEUED) {
      // Not started: leave the queue (if start() is already scheduled it sees DONE).
      this.#context.limiter.cancel(this);
      return;
    }
    this.#target.stats.clientAborts++;
    if (state === AWAITING_HEADERS) (this.#target.statusCounts[0] as number)++;
    this.#abandonUpstream('client disconnected');
    if (this.#context.logger.isEnabled('DEBUG')) {
      this.#context.logger.debug(
        `client went away; aborted ${this.#describeRequest()} at agent ${this.#target.index}`,
      );
    }
  }

  #failBeforeHeaders(statusCode: number, message: string, error: unknown): void {
    this.#settle();
    const target = this.#target;
    if (!this.#response.headersSent && !this.#response.destroyed) {
      sendJsonError(
        this.#response,
        statusCode,
        message,
        this.#selector === undefined ? undefined : [AGENT_INDEX_HEADER, String(target.index)],
      );
    }
    (target.statusCounts[statusClassSlot(statusCode)] as number)++;
    target.stats.recordError(message);
    this.#statusCode = statusCode;
    this.#context.logger.warning(
      `${this.#describeRequest()} -> ${statusCode}: ${message}${error === undefined ? '' : ` (${describeError(error)})`}`,
    );
  }

  /**
   * Give up on the upstream request: its connection is destroyed, which stops the
   * agent (it sees the connection close) and fails the request in undici; nothing
   * reconnects in its place. The slot and the agent's in-flight count go back now, not
   * when undici reports the socket closed (a loop iteration or two later): whoever
   * reads /status after its answer (or after leaving) must not see it still in flight.
   */
  #abandonUpstream(reason: string): void {
    this.#dropConnection(new ExchangeAbort(reason));
    this.#upstreamDone();
  }

  #dropConnection(reason: Error): void {
    const client = this.#client;
    if (client === undefined) return;
    this.#client = undefined;
    this.#target.connections.discard(client, reason);
  }

  /** The client's side is decided: stop the clock. */
  #settle(): void {
    this.#state = DONE;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#stopBodyWatch?.();
  }

  /** The upstream request is over (ended, failed or abandoned): give the slot back. */
  #upstreamDone(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#stopBodyWatch?.();
    this.#leaveAgent();
    this.#context.limiter.release();
  }

  /** The current attempt no longer counts in its agent's in-flight requests. */
  #leaveAgent(): void {
    const target = this.#countedAt;
    if (target === undefined) return;
    this.#countedAt = undefined;
    target.stats.inFlight--;
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
 * The request's timeout in milliseconds: its `X-Timeout` (capped) or the default.
 * Answers 400 and returns `undefined` when `X-Timeout` is not a positive number.
 */
export function requestTimeoutMs(
  context: ForwardContext,
  head: UpstreamRequestHead,
  response: ServerResponse,
): number | undefined {
  if (head.timeoutHeader === undefined) return context.defaultTimeoutMs;
  const seconds = parseTimeoutSeconds(head.timeoutHeader);
  if (seconds === undefined) {
    sendJsonError(
      response,
      400,
      `invalid X-Timeout header ${JSON.stringify(head.timeoutHeader)}: expected a positive number of seconds`,
    );
    return undefined;
  }
  return Math.min(seconds * 1000, context.maxTimeoutMs);
}

/** Open the exchange and send it once a connector slot is free (at once if one is). */
function openExchange(exchange: ForwardedExchange, limiter: ConnectionLimiter): void {
  if (limiter.tryAcquire()) exchange.start();
  else limiter.enqueue(exchange);
}

/**
 * Send a request to `selector`'s pick (pooled) at `path`, once a connector slot is
 * free. `body` is the request itself (streamed), a buffered copy, or `null`.
 */
export function forwardToSelected(
  context: ForwardContext,
  selector: TargetSelector,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  headers: string[],
  body: IncomingMessage | Buffer | null,
  timeoutMs: number,
): void {
  openExchange(
    new ForwardedExchange(
      context,
      undefined,
      selector,
      request,
      response,
      path,
      headers,
      body,
      body !== null && !Buffer.isBuffer(body) && declaredContentLength(body) !== undefined,
      timeoutMs,
    ),
    context.limiter,
  );
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
  const timeoutMs = requestTimeoutMs(context, head, response);
  if (timeoutMs === undefined) return;
  openExchange(
    new ForwardedExchange(
      context,
      target,
      undefined,
      request,
      response,
      path,
      head.headers,
      head.hasBody ? request : null,
      head.contentLength !== undefined,
      timeoutMs,
    ),
    context.limiter,
  );
}
