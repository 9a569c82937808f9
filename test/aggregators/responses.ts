import type { AgentResponse, FailureKind } from '../../src/pool/types.js';

/** A successful response from agent `agentIndex`. */
export function ok(text: string, agentIndex = 0): AgentResponse {
  return { success: true, text, agentIndex, globalIndex: agentIndex };
}

/** A failed response from agent `agentIndex`. */
export function failed(error: string, agentIndex = 0, failureKind?: FailureKind): AgentResponse {
  const response: AgentResponse = {
    success: false,
    text: '',
    error,
    agentIndex,
    globalIndex: agentIndex,
  };
  if (failureKind !== undefined) response.failureKind = failureKind;
  return response;
}
