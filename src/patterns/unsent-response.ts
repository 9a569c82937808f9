/**
 * The value a pattern reports for a call it never sent (aborted before its turn, or skipped
 * because everything it depended on failed).
 */
import type { AgentResponse, FailureKind } from '../pool/types.js';

/** `globalIndex` of a response for a call that was never sent: the pool did not resolve the agent. */
export const UNSENT_GLOBAL_INDEX = -1;

/** A failed response for a call that was never sent to `agentIndex`. */
export function unsentResponse(
  agentIndex: number,
  error: string,
  failureKind: FailureKind = 'aborted',
): AgentResponse {
  return {
    success: false,
    text: '',
    error,
    failureKind,
    agentIndex,
    globalIndex: UNSENT_GLOBAL_INDEX,
  };
}

/** The error message of calls skipped because the caller's signal aborted. */
export const NOT_SENT_ABORTED = 'not sent: the operation was aborted before this call started';
