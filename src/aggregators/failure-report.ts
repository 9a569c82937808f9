import { FAILURE_KINDS } from '../pool/failure-kind.js';
import type { AgentResponse, FailureKind } from '../pool/types.js';
import { assertResponses } from './aggregator-options.js';

/**
 * What a failure report groups by: the response's {@link FailureKind} (the same words as
 * `failure_kind` in `aurora-swarm run`'s results file; see `FAILURE_KINDS` for what each
 * means), or, for a failure without one, the kind its error message suggests; `unknown`
 * when the message suggests nothing.
 */
export type FailureCause = FailureKind | 'unknown';

/** Every {@link FailureCause}, in the order reports list them. */
export const FAILURE_CAUSES: readonly FailureCause[] = [
  ...(Object.keys(FAILURE_KINDS) as FailureKind[]),
  'unknown',
];

/** One failed response in a {@link FailureReport}. */
export interface FailureEntry {
  /** Position of the response in the input array. */
  responseIndex: number;
  /** `agentIndex` of the response (pool numbering). */
  agentIndex: number;
  /** `globalIndex` of the response (hostfile numbering). */
  globalIndex: number;
  /** The response's error message, `''` when it had none. */
  error: string;
  /** The group this failure is reported under. */
  cause: FailureCause;
  /** The response's own `failureKind`, when it had one. */
  failureKind?: FailureKind;
}

/** Result of {@link failureReport}. */
export interface FailureReport {
  /** Number of responses. */
  total: number;
  /** Responses with `success: true`. */
  successCount: number;
  /** Responses with `success: false`. */
  failureCount: number;
  /** Every failure in input order. */
  failures: FailureEntry[];
  /** The same failures grouped by cause; every cause is present, possibly empty. */
  byCause: Record<FailureCause, FailureEntry[]>;
}

// Checked in this order: an overflow message from vLLM arrives as an HTTP 400,
// so it must win over the generic agent-error patterns.
const MESSAGE_PATTERNS: readonly [FailureCause, RegExp][] = [
  [
    'context-overflow',
    /context length|context window|max_model_len|maximum context|too many tokens|prompt is too long/i,
  ],
  ['timeout', /timed? ?out|timeout|ETIMEDOUT|deadline exceeded/i],
  [
    'connect',
    /ECONNREFUSED|connection refused|refused|cannot connect|could not connect|failed to connect|ECONNRESET|socket hang up|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/i,
  ],
  [
    'agent-error',
    /\bHTTP\b|status|\b[45]\d\d\b|server error|bad gateway|service unavailable|malformed|invalid JSON|bad response|agent error/i,
  ],
];

/**
 * The cause a failure is grouped under: from `failureKind` when the response
 * has one, else guessed from the error message.
 * @example classifyFailure({ error: 'connect ECONNREFUSED 127.0.0.1:8000' }) // 'connect'
 */
export function classifyFailure(
  response: Pick<AgentResponse, 'error' | 'failureKind'>,
): FailureCause {
  if (response.failureKind !== undefined && Object.hasOwn(FAILURE_KINDS, response.failureKind)) {
    return response.failureKind;
  }
  const message = response.error ?? '';
  for (const [cause, pattern] of MESSAGE_PATTERNS) {
    if (pattern.test(message)) return cause;
  }
  return 'unknown';
}

/**
 * Count successes and failures, and list the failures in input order and
 * grouped by cause (see {@link FailureCause}).
 *
 * @example failureReport(responses).byCause.timeout.map((failure) => failure.agentIndex)
 */
export function failureReport(responses: readonly AgentResponse[]): FailureReport {
  assertResponses('failureReport', responses);
  const byCause = Object.fromEntries(
    FAILURE_CAUSES.map((cause) => [cause, []]),
  ) as unknown as Record<FailureCause, FailureEntry[]>;
  const failures: FailureEntry[] = [];
  responses.forEach((response, responseIndex) => {
    if (response.success) return;
    const entry: FailureEntry = {
      responseIndex,
      agentIndex: response.agentIndex,
      globalIndex: response.globalIndex,
      error: response.error ?? '',
      cause: classifyFailure(response),
    };
    if (response.failureKind !== undefined) entry.failureKind = response.failureKind;
    failures.push(entry);
    byCause[entry.cause].push(entry);
  });
  return {
    total: responses.length,
    successCount: responses.length - failures.length,
    failureCount: failures.length,
    failures,
    byCause,
  };
}
