/**
 * One attempt of a pool call: send the request once, classify what came back, and
 * tell the loop in pool-transport.ts what to do next — settle with a result (an
 * answer or a failure) or retry after a delay. The attempt owns the attempt's
 * {@link CallSignal} (timeout and caller's abort); the loop owns the concurrency
 * slot, the pool's closing, the sleep between attempts, and the policy built on each
 * outcome: the circuit breaker reads its {@link AgentVerdict}, least-loaded dispatch
 * fails over to another member, hedging races a second call (hedged-call.ts); batch
 * mode asks for its timeouts to be retried (`retryOnTimeout`).
 *
 * Internal. What is retried and how long to wait is retry.ts's decision.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { CallSignal } from '../internal/call-signal.js';
import { type AgentVerdict, answerVerdict, connectionVerdict } from './circuit-breaker.js';
import {
  describeConnectionError,
  describeHttpFailure,
  errorCode,
  type FailureDescription,
} from './describe-failure.js';
import type { PoolMember } from './pool-member.js';
import { isRetryableErrorCode, isRetryableStatus, retryDelayMs } from './retry.js';
import type { TailHedge } from './tail-hedge.js';
import { receiveWhole } from './whole-response.js';

/** One HTTP exchange with one agent of a pool. */
export interface TransportRequest {
  /** The agent to call; `undefined` lets the transport pick the least loaded of `members`. */
  member: PoolMember | undefined;
  /**
   * The pool's agents, in pool order: where least-loaded dispatch, failover and hedges
   * may send the request. @default `[member]`
   */
  members?: readonly PoolMember[] | undefined;
  /**
   * When no response headers arrived this many milliseconds after sending, send the same
   * request to another agent of `members` too; the first success wins. @default undefined (never)
   */
  hedgeAfterMs?: number | undefined;
  /** Most extra agents one call is sent to when hedging. @default 1 */
  maxHedges?: number | undefined;
  /**
   * The least-loaded fan-out this call is part of, when it hedges adaptively: used only
   * without `hedgeAfterMs` and without a fixed `member` (tail-hedge.ts).
   */
  tailHedge?: TailHedge | undefined;
  method: 'GET' | 'POST';
  /** Path on the agent, e.g. `/v1/chat/completions`. */
  path: string;
  /** JSON text of the request body. */
  body?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * Retry an attempt that timed out (within the retry budget, after the usual delay). Only
   * for a request that is safe to send again after a timeout: a batch of completions is not
   * streamed, so nothing of it reached the caller, and vLLM cancels a generation whose
   * connection closed. Other calls never retry a timeout (the agent may still be working).
   */
  retryOnTimeout?: boolean | undefined;
}

/**
 * Which agent a result is from, set by the transport: failover and hedges may make it
 * another agent than the one asked for.
 */
export interface AnsweredBy {
  /** The agent that answered (or failed); `undefined` when no agent could be called. */
  member?: PoolMember | undefined;
  /** Its index in the request's `members` when the transport picked it, else -1. */
  memberIndex?: number;
  /** Whether the request was also sent to another agent because an answer was slow to start. */
  hedged?: boolean;
}

/** A 2xx answer read whole. */
export interface TransportAnswer extends AnsweredBy {
  ok: true;
  status: number;
  bodyText: string;
  latencyMs: number;
}

/** A 2xx answer whose body is still arriving; call `finish()` exactly once when done with it. */
export interface TransportStream extends AnsweredBy {
  ok: true;
  status: number;
  body: Readable;
  startedAt: number;
  /** The attempt's merged signal: aborted by timeout, the caller, or `abort()`. */
  callSignal: CallSignal;
  finish(): void;
}

/** A call that produced no usable answer. */
export interface TransportFailure extends FailureDescription, AnsweredBy {
  ok: false;
  status?: number;
  latencyMs: number;
}

/** What one attempt ended with. */
export type AttemptOutcome<Answer> =
  | {
      readonly kind: 'settled';
      readonly result: Answer | TransportFailure;
      /** The answer keeps the slot (and the call signal) until its own `finish()`. */
      readonly holdsSlot: boolean;
      /** What the attempt says about the agent (for its circuit breaker). */
      readonly verdict: AgentVerdict;
    }
  | {
      readonly kind: 'retry';
      /** How long to wait before the next attempt, in milliseconds. */
      readonly delayMs: number;
      /** What went wrong, should no further attempt be made. */
      readonly failure: TransportFailure;
      readonly verdict: AgentVerdict;
    };

/** Told about an attempt's progress (hedging watches for response headers). */
export interface AttemptObserver {
  /** The request is about to be sent to the agent with this global (hostfile) index. */
  onSend(globalIndex: number): void;
  /** Response headers arrived with `status`. */
  onResponseStart(status: number): void;
}

/**
 * How a 2xx response becomes the caller's answer: read whole (`whole`: the body text, through
 * undici's `dispatch()`, whole-response.ts), or handed over as a stream (`stream`: undici's
 * `request()` body, the slot and `callSignal` kept until the answer's own `finish()`).
 */
export type SuccessReader<Answer> =
  | {
      readonly kind: 'whole';
      /** The answer to a 2xx whose body is `bodyText`. */
      answer(statusCode: number, bodyText: string, startedAt: number): Answer;
    }
  | {
      readonly kind: 'stream';
      /**
       * Turn `response` (status 2xx) into the answer. Errors while reading are the
       * attempt's: a timeout, an abort or a cut connection, never retried (bytes came).
       */
      read(
        response: Dispatcher.ResponseData,
        callSignal: CallSignal,
        startedAt: number,
      ): Promise<Answer>;
    };

/** A call's attempts share these: where they go, and the retry budget. */
export interface AttemptPlan {
  readonly dispatcher: Dispatcher;
  readonly request: TransportRequest;
  /** The agent this attempt goes to. */
  readonly member: PoolMember;
  /** The caller's signal for this attempt (a hedged call gives each of its calls its own). */
  readonly signal: AbortSignal | undefined;
  readonly observer: AttemptObserver | undefined;
  /** Built once per agent; each attempt of a stream sets its own `signal`. */
  readonly dispatchOptions: Dispatcher.RequestOptions;
  /** `performance.now()` when the call started (latencies count from here). */
  readonly startedAt: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
}

/** A failure settled now, its latency counted from `startedAt`. */
export function transportFailure(
  failureKind: TransportFailure['failureKind'],
  error: string,
  startedAt: number,
): TransportFailure {
  return { ok: false, failureKind, error, latencyMs: performance.now() - startedAt };
}

function settled<Answer>(
  result: Answer | TransportFailure,
  verdict: AgentVerdict,
  holdsSlot = false,
): AttemptOutcome<Answer> {
  return { kind: 'settled', result, holdsSlot, verdict };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Attempt number `retryNumber` (0 for the first) of `plan`, while the caller holds a
 * slot. Never throws.
 */
export async function attemptOnce<Answer>(
  plan: AttemptPlan,
  retryNumber: number,
  reader: SuccessReader<Answer>,
): Promise<AttemptOutcome<Answer>> {
  const { request, startedAt, member } = plan;
  const { timeoutMs } = request;
  const proxied = member.proxyAddress !== undefined;
  const canRetry = retryNumber < plan.maxRetries;
  const callSignal = new CallSignal(timeoutMs, plan.signal);
  let answerStarted = false;
  let handedOver = false;
  try {
    plan.observer?.onSend(member.globalIndex);
    let status: number;
    let bodyText: string;
    let retryAfter: string | undefined;
    if (reader.kind === 'whole') {
      const whole = await receiveWhole(
        plan.dispatcher,
        plan.dispatchOptions,
        callSignal,
        (code) => {
          answerStarted = true;
          plan.observer?.onResponseStart(code);
        },
      );
      status = whole.statusCode;
      if (status >= 200 && status < 300) {
        return settled(reader.answer(status, whole.bodyText, startedAt), 'answered');
      }
      bodyText = whole.bodyText;
      retryAfter = whole.retryAfter;
    } else {
      plan.dispatchOptions.signal = callSignal.signal;
      const response = await plan.dispatcher.request(plan.dispatchOptions);
      answerStarted = true;
      status = response.statusCode;
      plan.observer?.onResponseStart(status);
      if (status >= 200 && status < 300) {
        const answer = await reader.read(response, callSignal, startedAt);
        handedOver = true;
        return settled(answer, 'answered', true);
      }
      bodyText = await response.body.text();
      retryAfter = headerValue(response.headers['retry-after']);
    }
    const verdict = answerVerdict(status, bodyText, proxied);
    const described = describeHttpFailure(status, bodyText, member);
    const failure: TransportFailure = {
      ok: false,
      ...described,
      status,
      latencyMs: performance.now() - startedAt,
    };
    if (isRetryableStatus(status) && canRetry) {
      const delayMs = retryDelayMs(retryNumber, plan.retryDelayMs, retryAfter);
      return { kind: 'retry', delayMs, failure, verdict };
    }
    return settled(failure, verdict);
  } catch (error) {
    if (callSignal.timedOut) {
      const failure = transportFailure(
        'timeout',
        `timeout after ${timeoutMs} ms waiting for ${member.label}`,
        startedAt,
      );
      const verdict: AgentVerdict = answerStarted ? 'answered' : 'unknown';
      if (request.retryOnTimeout === true && canRetry) {
        const delayMs = retryDelayMs(retryNumber, plan.retryDelayMs, undefined);
        return { kind: 'retry', delayMs, failure, verdict };
      }
      return settled(failure, verdict);
    }
    if (callSignal.callerAborted) {
      return settled(
        transportFailure('aborted', `aborted by the caller (${member.label})`, startedAt),
        answerStarted ? 'answered' : 'unknown',
      );
    }
    const described = describeConnectionError(error, member, answerStarted);
    const failure: TransportFailure = {
      ok: false,
      ...described,
      latencyMs: performance.now() - startedAt,
    };
    if (answerStarted) return settled(failure, 'answered');
    const code = errorCode(error);
    const verdict = connectionVerdict(code, proxied);
    if (canRetry && isRetryableErrorCode(code)) {
      return {
        kind: 'retry',
        delayMs: retryDelayMs(retryNumber, plan.retryDelayMs, undefined),
        failure,
        verdict,
      };
    }
    return settled(failure, verdict);
  } finally {
    if (!handedOver) callSignal.dispose();
  }
}
