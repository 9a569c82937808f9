/**
 * The HTTP layer shared by a root pool and all of its sub-pools: one undici
 * dispatcher, one concurrency limiter, the proxy settings, and the loop that runs a
 * call's attempts (transport-attempt.ts) — it only takes a slot, watches for the
 * pool closing, and sleeps between attempts with the slot given back.
 *
 * Internal. Connections: a single undici `Agent` creates a per-origin pool lazily
 * on first use, so 8,000 agents cost nothing until they are called; `connections`
 * caps each origin; undici's own headers/body timeouts (300 s by default) are
 * disabled because the call's timeout (which may be longer) aborts the request itself.
 */
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher } from 'undici';
import { ConcurrencyLimiter } from '../internal/concurrency-limiter.js';
import { sleep } from '../internal/sleep.js';
import { type PoolMember, routingHeaders } from './pool-member.js';
import type { ResolvedPoolOptions } from './pool-options.js';
import {
  type AttemptPlan,
  attemptOnce,
  type SuccessReader,
  type TransportAnswer,
  type TransportFailure,
  type TransportRequest,
  type TransportStream,
  transportFailure,
} from './transport-attempt.js';

const JSON_CONTENT_TYPE = 'application/json';
const MAX_CACHED_HEADER_SETS = 64;

const READ_WHOLE: SuccessReader<TransportAnswer> = {
  async read(response, _callSignal, startedAt) {
    const bodyText = await response.body.text();
    const latencyMs = performance.now() - startedAt;
    return {
      answer: { ok: true, status: response.statusCode, bodyText, latencyMs },
      holdsSlot: false,
    };
  },
};

/** @internal */
export class PoolTransport {
  readonly options: ResolvedPoolOptions;
  readonly limiter: ConcurrencyLimiter;
  readonly #dispatcher: Agent;
  readonly #headerSets = new Map<string, Record<string, string>>();
  readonly #handOverStream: SuccessReader<TransportStream>;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedPoolOptions) {
    this.options = options;
    // Every request holds one connection while in flight (no pipelining), so capping
    // in-flight requests at connectorLimit caps the connections in use as well.
    const limiter = new ConcurrencyLimiter(Math.min(options.concurrency, options.connectorLimit));
    this.limiter = limiter;
    this.#dispatcher = new Agent({
      connections: options.connectorLimit,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      // A `unix:` proxy: every connection goes to its socket (requests say localhost).
      ...(options.proxySocketPath === undefined ? {} : { socketPath: options.proxySocketPath }),
    });
    this.#handOverStream = {
      read: async (response, callSignal, startedAt) => ({
        answer: {
          ok: true,
          status: response.statusCode,
          body: response.body,
          startedAt,
          callSignal,
          finish: () => {
            callSignal.dispose();
            limiter.release();
          },
        },
        holdsSlot: true,
      }),
    };
  }

  /** The undici dispatcher of the family (for raw access: `pool.request`). */
  get dispatcher(): Dispatcher {
    return this.#dispatcher;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Send a request and read the whole answer, retrying where that is safe. */
  exchange(request: TransportRequest): Promise<TransportAnswer | TransportFailure> {
    return this.#run(request, READ_WHOLE);
  }

  /** Send a request and hand back the answer body as a stream (slot held until `finish()`). */
  openStream(request: TransportRequest): Promise<TransportStream | TransportFailure> {
    return this.#run(request, this.#handOverStream);
  }

  /** Stop accepting calls and close connections once in-flight requests end. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= this.#dispatcher.close();
    return this.#closing;
  }

  /** The attempts of one call: a slot for each, given back while sleeping before the next. */
  async #run<Answer>(
    request: TransportRequest,
    reader: SuccessReader<Answer>,
  ): Promise<Answer | TransportFailure> {
    const { member, signal } = request;
    const plan: AttemptPlan = {
      dispatcher: this.#dispatcher,
      request,
      dispatchOptions: {
        origin: member.origin,
        path: member.pathPrefix + request.path,
        method: request.method,
        headers: this.#headersFor(member, request.timeoutMs),
        body: request.body,
        signal: undefined,
      },
      startedAt: performance.now(),
      maxRetries: this.options.maxRetries,
      retryDelayMs: this.options.retryDelayMs,
    };
    const closedFailure = () =>
      transportFailure('aborted', 'the pool was closed before this call was sent', plan.startedAt);
    for (let retryNumber = 0; ; retryNumber++) {
      if (this.#closed) return closedFailure();
      if (!this.limiter.tryAcquire() && !(await this.limiter.acquire(signal))) {
        return transportFailure(
          'aborted',
          `aborted before ${member.label} was called`,
          plan.startedAt,
        );
      }
      if (this.#closed) {
        // Closed while this call waited for a slot.
        this.limiter.release();
        return closedFailure();
      }
      const outcome = await attemptOnce(plan, retryNumber, reader);
      if (outcome.kind === 'settled') {
        if (!outcome.holdsSlot) this.limiter.release();
        return outcome.result;
      }
      // The slot is released while waiting so other agents' calls keep flowing.
      this.limiter.release();
      if (!(await sleep(outcome.delayMs, signal))) {
        return transportFailure(
          'aborted',
          `aborted by the caller (${member.label})`,
          plan.startedAt,
        );
      }
    }
  }

  /**
   * The request headers, one object per distinct set, reused across calls. They
   * depend on the pool's own headers and token (fixed for a transport) and, for a
   * member reached through the proxy, on the proxy and the call's timeout (sent as
   * `X-Timeout`); a direct member's headers are the same whatever the timeout.
   */
  #headersFor(member: PoolMember, timeoutMs: number): Record<string, string> {
    const proxied = member.proxyAddress !== undefined;
    const key = proxied ? `proxied ${member.proxyAddress} ${timeoutMs}` : 'direct';
    let headers = this.#headerSets.get(key);
    if (headers === undefined) {
      headers = {
        ...routingHeaders(member, this.options, timeoutMs),
        'content-type': JSON_CONTENT_TYPE,
      };
      if (this.#headerSets.size < MAX_CACHED_HEADER_SETS) this.#headerSets.set(key, headers);
    }
    return headers;
  }
}
