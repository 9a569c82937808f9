/**
 * The HTTP layer shared by a root pool and all of its sub-pools: one undici
 * dispatcher, one concurrency limiter, the proxy settings, what is known of each agent
 * (calls in flight, circuit breaker: agent-states.ts), and the loop that runs a call's
 * attempts (transport-attempt.ts). The loop takes a slot, picks the agent (the one asked
 * for, or the least loaded), asks its breaker, and after each attempt records what it
 * said about the agent; it fails over to another agent (least-loaded calls) or sleeps
 * with the slot given back before the next attempt, and races a hedge when asked
 * (hedged-call.ts).
 *
 * Internal. Connections: a single undici `Agent` creates a per-origin pool lazily
 * on first use, so 8,000 agents cost nothing until they are called; `connections`
 * caps each origin; undici's own headers/body timeouts (300 s by default) are
 * disabled because the call's timeout (which may be longer) aborts the request itself.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { ConcurrencyLimiter } from '../internal/concurrency-limiter.js';
import { sleep } from '../internal/sleep.js';
import { Agent } from '../internal/undici-agent.js';
import { AgentStates } from './agent-states.js';
import type { Admission } from './circuit-breaker.js';
import { type HedgeLeg, runHedged } from './hedged-call.js';
import { type PoolMember, routingHeaders } from './pool-member.js';
import type { ResolvedPoolOptions } from './pool-options.js';
import {
  type AnsweredBy,
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
  kind: 'whole',
  answer: (status, bodyText, startedAt) => ({
    ok: true,
    status,
    bodyText,
    latencyMs: performance.now() - startedAt,
  }),
};

/** @internal */
export class PoolTransport {
  readonly options: ResolvedPoolOptions;
  readonly limiter: ConcurrencyLimiter;
  /** Calls in flight and circuit breakers of every agent, by global index. */
  readonly agents: AgentStates;
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
    this.agents = new AgentStates(options.endpoints.length, options.breaker);
    this.#dispatcher = new Agent({
      connections: options.connectorLimit,
      pipelining: 1,
      headersTimeout: 0,
      bodyTimeout: 0,
      // A `unix:` proxy: every connection goes to its socket (requests say localhost).
      ...(options.proxySocketPath === undefined ? {} : { socketPath: options.proxySocketPath }),
    });
    this.#handOverStream = {
      kind: 'stream',
      read: async (response, callSignal, startedAt) => ({
        ok: true,
        status: response.statusCode,
        body: response.body,
        startedAt,
        callSignal,
        finish: () => {
          callSignal.dispose();
          limiter.release();
        },
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

  /** One call: hedged when asked (and another agent exists), else a single run of attempts. */
  #run<Answer extends AnsweredBy & { ok: true }>(
    request: TransportRequest,
    reader: SuccessReader<Answer>,
  ): Promise<Answer | TransportFailure> {
    const members = request.members;
    // A fixed delay, else a least-loaded fan-out's adaptive one (tail-hedge.ts).
    const hedgeAfterMs =
      request.hedgeAfterMs ?? (request.member === undefined ? request.tailHedge : undefined);
    if (hedgeAfterMs === undefined || members === undefined || members.length < 2) {
      return this.#call(request, reader, undefined);
    }
    const limiter = this.limiter;
    const adaptive = typeof hedgeAfterMs !== 'number';
    return runHedged<Answer | TransportFailure>({
      hedgeAfterMs,
      maxHedges: request.maxHedges ?? 1,
      signal: request.signal,
      run: (leg) => this.#call(request, reader, leg),
      // An adaptive hedge only takes a slot that is free now.
      canHedge: (avoid) =>
        (!adaptive || limiter.active < limiter.capacity) &&
        this.agents.pickLeastLoaded(members, avoid) >= 0,
      discard: discardResult,
    });
  }

  /**
   * The attempts of one call (or of one call of a hedged race): a slot for each, given back
   * while sleeping before the next. A fixed agent whose breaker refuses fails at once; a
   * least-loaded call picks its agent once it holds a slot and, when that agent cannot be
   * reached, fails over to another at once (within the retry budget).
   */
  async #call<Answer extends AnsweredBy & { ok: true }>(
    request: TransportRequest,
    reader: SuccessReader<Answer>,
    leg: HedgeLeg | undefined,
  ): Promise<Answer | TransportFailure> {
    const agents = this.agents;
    const members = request.members ?? (request.member === undefined ? [] : [request.member]);
    const picking = request.member === undefined || leg?.hedge === true;
    const signal = leg === undefined ? request.signal : leg.signal;
    // Agents (global indices) this call must not go to: tried and failed, or used by the race.
    let avoid: number[] | undefined = leg?.avoid;
    let member = picking ? undefined : request.member;
    // Known only for a member the transport picked; a fixed one is the caller's own.
    let memberIndex = -1;
    let plan: AttemptPlan | undefined;
    let lastFailure: TransportFailure | undefined;
    const startedAt = performance.now();
    // No closure per call: the failures are made where they happen (this runs per request).
    const closedMessage = 'the pool was closed before this call was sent';
    for (let retryNumber = 0; ; retryNumber++) {
      if (this.#closed) {
        return stamp(transportFailure('aborted', closedMessage, startedAt), member, memberIndex);
      }
      // A fixed agent whose breaker is open fails now, without waiting for a slot.
      if (member !== undefined && !picking && !agents.admits(member.globalIndex)) {
        return lastFailure ?? this.#refused(members, member, memberIndex, startedAt);
      }
      if (!this.limiter.tryAcquire() && !(await this.limiter.acquire(signal))) {
        return stamp(
          transportFailure(
            'aborted',
            `aborted before ${member?.label ?? 'an agent'} was called`,
            startedAt,
          ),
          member,
          memberIndex,
        );
      }
      if (this.#closed) {
        // Closed while this call waited for a slot.
        this.limiter.release();
        return stamp(transportFailure('aborted', closedMessage, startedAt), member, memberIndex);
      }
      if (picking) {
        // Picked only now that the call holds a slot, so the counts compared are current.
        const picked = agents.pickLeastLoaded(members, avoid);
        if (picked < 0) {
          this.limiter.release();
          return lastFailure ?? this.#refused(members, member, memberIndex, startedAt);
        }
        memberIndex = picked;
        member = members[picked] as PoolMember;
      }
      const target = member as PoolMember;
      const admission: Admission | undefined = agents.admit(target.globalIndex);
      if (admission === undefined) {
        this.limiter.release();
        return lastFailure ?? this.#refused(members, member, memberIndex, startedAt);
      }
      if (plan === undefined || plan.member !== target) {
        plan = this.#planFor(request, target, signal, leg, startedAt);
      }
      const globalIndex = target.globalIndex;
      const send = agents.begin(globalIndex);
      const outcome = await attemptOnce(plan, retryNumber, reader);
      const failure = outcome.kind === 'retry' ? outcome.failure : outcome.result;
      const opened = agents.record(
        globalIndex,
        send,
        outcome.verdict,
        admission,
        failure.ok ? '' : (failure as TransportFailure).error,
      );
      if (opened && !failure.ok) (failure as TransportFailure).error += agents.openedNote();
      if (outcome.kind === 'settled') {
        if (outcome.holdsSlot) {
          // A stream: the slot and the agent's count are given back by its finish().
          const stream = outcome.result as unknown as TransportStream;
          const finish = stream.finish;
          stream.finish = () => {
            agents.end(globalIndex);
            finish();
          };
        } else {
          agents.end(globalIndex);
          this.limiter.release();
        }
        return stamp(outcome.result, member, memberIndex);
      }
      agents.end(globalIndex);
      // The slot is released while waiting so other agents' calls keep flowing.
      this.limiter.release();
      lastFailure = stamp(outcome.failure, member, memberIndex);
      if (picking && outcome.verdict !== 'unknown') {
        // The agent's own fault (unreachable, or its 502/503): try another one at once.
        avoid ??= [];
        if (!avoid.includes(globalIndex)) avoid.push(globalIndex);
        if (agents.pickLeastLoaded(members, avoid) >= 0) continue;
        if (leg === undefined) avoid = undefined;
      } else if (!picking && !agents.admits(globalIndex)) {
        // Its breaker just opened (or a trial failed): no more attempts on it.
        return lastFailure;
      }
      if (!(await sleep(outcome.delayMs, signal))) {
        return stamp(
          transportFailure('aborted', `aborted by the caller (${target.label})`, startedAt),
          member,
          memberIndex,
        );
      }
    }
  }

  /** A call refused by the circuit breakers: of `member`, or of every one of `members`. */
  #refused(
    members: readonly PoolMember[],
    member: PoolMember | undefined,
    memberIndex: number,
    startedAt: number,
  ): TransportFailure {
    const error =
      member === undefined
        ? this.agents.noneAvailableMessage(members)
        : this.agents.unavailableMessage(member);
    return stamp(transportFailure('unavailable', error, startedAt), member, memberIndex);
  }

  /** Where the attempts on `member` go: built once per agent a call tries. */
  #planFor(
    request: TransportRequest,
    member: PoolMember,
    signal: AbortSignal | undefined,
    leg: HedgeLeg | undefined,
    startedAt: number,
  ): AttemptPlan {
    return {
      dispatcher: this.#dispatcher,
      request,
      member,
      signal,
      observer: leg?.observer,
      dispatchOptions: {
        origin: member.origin,
        path: member.pathPrefix + request.path,
        method: request.method,
        headers: this.#headersFor(member, request.timeoutMs),
        body: request.body,
        signal: undefined,
      },
      startedAt,
      maxRetries: this.options.maxRetries,
      retryDelayMs: this.options.retryDelayMs,
    };
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

/** Mark `result` as `member`'s (`memberIndex`: its index in the request's members, or -1). */
function stamp<Result extends AnsweredBy>(
  result: Result,
  member: PoolMember | undefined,
  memberIndex: number,
): Result {
  result.member = member;
  result.memberIndex = memberIndex;
  return result;
}

/** A result that lost a hedged race: a stream gives its slot back and stops. */
function discardResult(result: AnsweredBy & { ok: boolean }): void {
  if (!result.ok) return;
  const stream = result as Partial<TransportStream>;
  if (typeof stream.finish === 'function' && stream.callSignal !== undefined) {
    stream.callSignal.abort(new Error('another agent answered first'));
    stream.finish();
  }
}
