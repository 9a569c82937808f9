/**
 * The HTTP layer shared by a root pool and all of its sub-pools: one undici
 * dispatcher, one concurrency limiter, the proxy settings, and the retry loop.
 *
 * Internal. Connections: a single undici `Agent` creates a per-origin pool lazily
 * on first use, so 8,000 agents cost nothing until they are called; `connections`
 * caps each origin; undici's own headers/body timeouts (300 s by default) are
 * disabled because the call's timeout (which may be longer) aborts the request itself.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import { CallSignal } from '../internal/call-signal.js';
import { ConcurrencyLimiter } from '../internal/concurrency-limiter.js';
import { sleep } from '../internal/sleep.js';
import {
  describeConnectionError,
  describeHttpFailure,
  errorCode,
  type FailureDescription,
} from './describe-failure.js';
import type { PoolMember } from './pool-member.js';
import type { ResolvedPoolOptions } from './pool-options.js';
import { isRetryableErrorCode, isRetryableStatus, retryDelayMs } from './retry.js';

/** One HTTP exchange with one agent. */
export interface TransportRequest {
  member: PoolMember;
  method: 'GET' | 'POST';
  /** Path on the agent, e.g. `/v1/chat/completions`. */
  path: string;
  /** JSON text of the request body. */
  body?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** A 2xx answer read whole. */
export interface TransportAnswer {
  ok: true;
  status: number;
  bodyText: string;
  latencyMs: number;
}

/** A 2xx answer whose body is still arriving; call `finish()` exactly once when done with it. */
export interface TransportStream {
  ok: true;
  status: number;
  body: Readable;
  startedAt: number;
  /** The attempt's merged signal: aborted by timeout, the caller, or `abort()`. */
  callSignal: CallSignal;
  finish(): void;
}

/** A call that produced no usable answer. */
export interface TransportFailure extends FailureDescription {
  ok: false;
  status?: number;
  latencyMs: number;
}

const JSON_CONTENT_TYPE = 'application/json';
const MAX_CACHED_HEADER_SETS = 64;

/** @internal */
export class PoolTransport {
  readonly options: ResolvedPoolOptions;
  readonly limiter: ConcurrencyLimiter;
  readonly #dispatcher: Agent;
  readonly #headersByTimeout = new Map<number, Record<string, string>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedPoolOptions) {
    this.options = options;
    // Every request holds one connection while in flight (no pipelining), so capping
    // in-flight requests at connectorLimit caps the connections in use as well.
    this.limiter = new ConcurrencyLimiter(Math.min(options.concurrency, options.connectorLimit));
    this.#dispatcher = new Agent({
      connections: options.connectorLimit,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Send a request and read the whole answer, retrying where that is safe. */
  async exchange(request: TransportRequest): Promise<TransportAnswer | TransportFailure> {
    return (await this.#send(request, false)) as TransportAnswer | TransportFailure;
  }

  /** Send a request and hand back the answer body as a stream (slot held until `finish()`). */
  async openStream(request: TransportRequest): Promise<TransportStream | TransportFailure> {
    return (await this.#send(request, true)) as TransportStream | TransportFailure;
  }

  /** Stop accepting calls and close connections once in-flight requests end. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#dispatcher.close();
    return this.#closing;
  }

  async #send(
    request: TransportRequest,
    keepStream: boolean,
  ): Promise<TransportAnswer | TransportStream | TransportFailure> {
    const { member, timeoutMs, signal } = request;
    const startedAt = performance.now();
    const dispatchOptions: Dispatcher.RequestOptions = {
      origin: member.origin,
      path: member.pathPrefix + request.path,
      method: request.method,
      headers: this.#headersFor(member, timeoutMs),
      body: request.body,
      signal: undefined,
    };
    for (let retryNumber = 0; ; retryNumber++) {
      if (this.#closed) {
        return failure('aborted', 'the pool was closed before this call was sent', startedAt);
      }
      if (!this.limiter.tryAcquire() && !(await this.limiter.acquire(signal))) {
        return failure('aborted', `aborted before ${member.label} was called`, startedAt);
      }
      if (this.#closed) {
        // Closed while this call waited for a slot.
        this.limiter.release();
        return failure('aborted', 'the pool was closed before this call was sent', startedAt);
      }
      const callSignal = new CallSignal(timeoutMs, signal);
      dispatchOptions.signal = callSignal.signal;
      let answerStarted = false;
      let waitMs: number;
      let keepSlot = false;
      try {
        const response = await this.#dispatcher.request(dispatchOptions);
        answerStarted = true;
        const status = response.statusCode;
        if (isRetryableStatus(status) && retryNumber < this.options.maxRetries) {
          await response.body.dump();
          waitMs = retryDelayMs(
            retryNumber,
            this.options.retryDelayMs,
            headerValue(response.headers['retry-after']),
          );
        } else if (status >= 200 && status < 300 && keepStream) {
          keepSlot = true;
          return {
            ok: true,
            status,
            body: response.body,
            startedAt,
            callSignal,
            finish: () => {
              callSignal.dispose();
              this.limiter.release();
            },
          };
        } else {
          const bodyText = await response.body.text();
          if (status >= 200 && status < 300) {
            return { ok: true, status, bodyText, latencyMs: performance.now() - startedAt };
          }
          const described = describeHttpFailure(status, bodyText, member);
          return { ok: false, ...described, status, latencyMs: performance.now() - startedAt };
        }
      } catch (error) {
        if (callSignal.timedOut) {
          return failure(
            'timeout',
            `timeout after ${timeoutMs} ms waiting for ${member.label}`,
            startedAt,
          );
        }
        if (callSignal.callerAborted) {
          return failure('aborted', `aborted by the caller (${member.label})`, startedAt);
        }
        if (
          !answerStarted &&
          retryNumber < this.options.maxRetries &&
          isRetryableErrorCode(errorCode(error))
        ) {
          waitMs = retryDelayMs(retryNumber, this.options.retryDelayMs, undefined);
        } else {
          const described = describeConnectionError(error, member, answerStarted);
          return { ok: false, ...described, latencyMs: performance.now() - startedAt };
        }
      } finally {
        if (!keepSlot) {
          callSignal.dispose();
          this.limiter.release();
        }
      }
      // The slot is released while waiting so other agents' calls keep flowing.
      if (!(await sleep(waitMs, signal))) {
        return failure('aborted', `aborted by the caller (${member.label})`, startedAt);
      }
    }
  }

  #headersFor(member: PoolMember, timeoutMs: number): Record<string, string> {
    // Header objects are reused across calls: one per distinct timeout.
    let headers = this.#headersByTimeout.get(timeoutMs);
    if (headers === undefined) {
      headers = { ...this.options.headers, 'content-type': JSON_CONTENT_TYPE };
      if (member.proxyAddress !== undefined) {
        headers['x-timeout'] = String(timeoutMs / 1000);
        if (this.options.proxyToken !== undefined) {
          headers['proxy-authorization'] = `Bearer ${this.options.proxyToken}`;
        }
      }
      if (this.#headersByTimeout.size < MAX_CACHED_HEADER_SETS) {
        this.#headersByTimeout.set(timeoutMs, headers);
      }
    }
    return headers;
  }
}

function failure(
  failureKind: TransportFailure['failureKind'],
  error: string,
  startedAt: number,
): TransportFailure {
  return { ok: false, failureKind, error, latencyMs: performance.now() - startedAt };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
