/**
 * The one vocabulary for why a call failed: the same words in `AgentResponse.failureKind`,
 * in `failure_kind` of the results file (written by `aurora-swarm run` and `job collect`),
 * in `failureReport` and in the run summary. Each word says what happened and whether sending the same request again can help.
 */

/** Why a call failed. */
export type FailureKind =
  | 'timeout'
  | 'connect'
  | 'proxy-unreachable'
  | 'unavailable'
  | 'http'
  | 'agent-error'
  | 'context-overflow'
  | 'invalid-request'
  | 'bad-response'
  | 'aborted'
  | 'invalid-index'
  | 'delivery-limit';

/** What a {@link FailureKind} means. */
export interface FailureKindInfo {
  /** The failure in a few words, for summaries. */
  meaning: string;
  /** Whether sending the same request again may succeed. */
  retryHelps: boolean;
}

/** Every {@link FailureKind} with its meaning, in the order reports list them. */
export const FAILURE_KINDS: Readonly<Record<FailureKind, FailureKindInfo>> = {
  timeout: { meaning: 'no full answer within the timeout', retryHelps: true },
  connect: {
    meaning: 'the agent could not be reached (refused, reset, unknown host)',
    retryHelps: true,
  },
  'proxy-unreachable': {
    meaning: 'the proxy itself could not be reached (proxy down, SSH tunnel closed)',
    retryHelps: true,
  },
  unavailable: {
    meaning:
      "not sent: the agent's circuit breaker is open after repeated connection failures (tried again after a cooldown)",
    retryHelps: true,
  },
  'context-overflow': {
    meaning: "the prompt is longer than the model's context",
    retryHelps: false,
  },
  'invalid-request': {
    meaning: 'the agent rejected the request as invalid (HTTP 400, 413 or 422)',
    retryHelps: false,
  },
  'agent-error': { meaning: 'the agent answered with an error', retryHelps: true },
  http: { meaning: 'an error status without a readable message', retryHelps: true },
  'bad-response': { meaning: 'an answer that is not what the endpoint promises', retryHelps: true },
  aborted: { meaning: 'stopped by the caller or by closing the pool', retryHelps: true },
  'invalid-index': { meaning: 'an agent index outside the pool', retryHelps: false },
  'delivery-limit': {
    meaning:
      'a job prompt given to worker after worker, each of which died or stalled before a result (it may be what stops them)',
    retryHelps: false,
  },
};

/** Whether `kind` names a failure that sending the same request again may fix. */
export function isRetryableFailureKind(kind: FailureKind | undefined): boolean {
  return kind === undefined || !Object.hasOwn(FAILURE_KINDS, kind)
    ? true
    : FAILURE_KINDS[kind].retryHelps;
}
