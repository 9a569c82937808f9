/**
 * One attempt of a pool call: send the request once, classify what came back, and
 * tell the loop in pool-transport.ts what to do next — settle with a result (an
 * answer or a failure) or retry after a delay. The attempt owns the attempt's
 * {@link CallSignal} (timeout and caller's abort); the loop owns the concurrency
 * slot, the pool's closing and the sleep between attempts. That seam is where more
 * policy goes: a circuit breaker looks at each outcome before the loop acts on it;
 * dispatch may pick another member for the next attempt; batch mode asks for its
 * timeouts to be retried (`retryOnTimeout`).
 *
 * Internal. What is retried and how long to wait is retry.ts's decision.
 */
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { CallSignal } from '../internal/call-signal.js';
import {
  describeConnectionError,
  describeHttpFailure,
  errorCode,
  type FailureDescription,
} from './describe-failure.js';
import type { PoolMember } from './pool-member.js';
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
  /**
   * Retry an attempt that timed out (within the retry budget, after the usual delay). Only
   * for a request that is safe to send again after a timeout: a batch of completions is not
   * streamed, so nothing of it reached the caller, and vLLM cancels a generation whose
   * connection closed. Other calls never retry a timeout (the agent may still be working).
   */
  retryOnTimeout?: boolean | undefined;
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

/** What one attempt ended with. */
export type AttemptOutcome<Answer> =
  | {
      readonly kind: 'settled';
      readonly result: Answer | TransportFailure;
      /** The answer keeps the slot (and the call signal) until its own `finish()`. */
      readonly holdsSlot: boolean;
    }
  | {
      readonly kind: 'retry';
      /** How long to wait before the next attempt, in milliseconds. */
      readonly delayMs: number;
    };

/** How a 2xx response becomes the caller's answer. */
export interface SuccessReader<Answer> {
  /**
   * Turn `response` (status 2xx) into the answer. Errors while reading are the
   * attempt's: a timeout, an abort or a cut connection, never retried (bytes came).
   * `holdsSlot: true` hands the slot and `callSignal` over to the answer.
   */
  read(
    response: Dispatcher.ResponseData,
    callSignal: CallSignal,
    startedAt: number,
  ): Promise<{ readonly answer: Answer; readonly holdsSlot: boolean }>;
}

/** A call's attempts share these: where they go, and the retry budget. */
export interface AttemptPlan {
  readonly dispatcher: Dispatcher;
  readonly request: TransportRequest;
  /** Built once per call; each attempt sets its own `signal`. */
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
  holdsSlot = false,
): AttemptOutcome<Answer> {
  return { kind: 'settled', result, holdsSlot };
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
  const { request, startedAt } = plan;
  const { member, timeoutMs } = request;
  const canRetry = retryNumber < plan.maxRetries;
  const callSignal = new CallSignal(timeoutMs, request.signal);
  plan.dispatchOptions.signal = callSignal.signal;
  let answerStarted = false;
  let handedOver = false;
  try {
    const response = await plan.dispatcher.request(plan.dispatchOptions);
    answerStarted = true;
    const status = response.statusCode;
    if (isRetryableStatus(status) && canRetry) {
      await response.body.dump();
      const retryAfter = headerValue(response.headers['retry-after']);
      return { kind: 'retry', delayMs: retryDelayMs(retryNumber, plan.retryDelayMs, retryAfter) };
    }
    if (status >= 200 && status < 300) {
      const { answer, holdsSlot } = await reader.read(response, callSignal, startedAt);
      handedOver = holdsSlot;
      return settled(answer, holdsSlot);
    }
    const bodyText = await response.body.text();
    const described = describeHttpFailure(status, bodyText, member);
    return settled({ ok: false, ...described, status, latencyMs: performance.now() - startedAt });
  } catch (error) {
    if (callSignal.timedOut) {
      if (request.retryOnTimeout === true && canRetry) {
        return { kind: 'retry', delayMs: retryDelayMs(retryNumber, plan.retryDelayMs, undefined) };
      }
      return settled(
        transportFailure(
          'timeout',
          `timeout after ${timeoutMs} ms waiting for ${member.label}`,
          startedAt,
        ),
      );
    }
    if (callSignal.callerAborted) {
      return settled(
        transportFailure('aborted', `aborted by the caller (${member.label})`, startedAt),
      );
    }
    if (!answerStarted && canRetry && isRetryableErrorCode(errorCode(error))) {
      return { kind: 'retry', delayMs: retryDelayMs(retryNumber, plan.retryDelayMs, undefined) };
    }
    const described = describeConnectionError(error, member, answerStarted);
    return settled({ ok: false, ...described, latencyMs: performance.now() - startedAt });
  } finally {
    if (!handedOver) callSignal.dispose();
  }
}
