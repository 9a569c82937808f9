/**
 * Builders for `AgentResponse` values, so every failure carries the same fields.
 * Internal.
 */
import type { PoolMember } from './pool-member.js';
import type { TransportFailure } from './transport-attempt.js';
import type { AgentResponse, FailureKind, TokenUsage } from './types.js';

/** A successful response from `member`; `usage` and `finishReason` only when reported. */
export function successResponse(
  member: PoolMember,
  agentIndex: number,
  answer: {
    text: string;
    status: number;
    latencyMs: number;
    usage?: TokenUsage | undefined;
    finishReason?: string | undefined;
    hedged?: boolean | undefined;
  },
): AgentResponse {
  const response: AgentResponse = {
    success: true,
    text: answer.text,
    agentIndex,
    globalIndex: member.globalIndex,
    latencyMs: answer.latencyMs,
    status: answer.status,
  };
  if (answer.usage) response.usage = answer.usage;
  if (answer.finishReason !== undefined) response.finishReason = answer.finishReason;
  if (answer.hedged) response.hedged = true;
  return response;
}

/**
 * A failed response for a call that reached (or tried to reach) `member`; `undefined` when
 * no agent could be called at all (every breaker of the pool open): `globalIndex` is then -1.
 */
export function failedResponse(
  member: PoolMember | undefined,
  agentIndex: number,
  failure: Pick<TransportFailure, 'failureKind' | 'error'> & {
    status?: number | undefined;
    latencyMs?: number | undefined;
    hedged?: boolean | undefined;
  },
): AgentResponse {
  const response: AgentResponse = {
    success: false,
    text: '',
    error: failure.error,
    failureKind: failure.failureKind,
    agentIndex,
    globalIndex: member?.globalIndex ?? -1,
  };
  if (failure.latencyMs !== undefined) response.latencyMs = failure.latencyMs;
  if (failure.status !== undefined) response.status = failure.status;
  if (failure.hedged) response.hedged = true;
  return response;
}

/** A failed response for an `agentIndex` outside the pool (no request is sent). */
export function invalidIndexResponse(agentIndex: number, size: number): AgentResponse {
  return {
    success: false,
    text: '',
    error: `agent index ${describeIndex(agentIndex)} out of range [0, ${size})`,
    failureKind: 'invalid-index' satisfies FailureKind,
    agentIndex,
    globalIndex: -1,
  };
}

/** A failed response for a 2xx answer whose body is not what the endpoint promises. */
export function badResponse(
  member: PoolMember,
  agentIndex: number,
  what: string,
  bodyText: string,
  status: number,
  latencyMs: number,
  hedged?: boolean,
): AgentResponse {
  const shown = bodyText.length > 200 ? `${bodyText.slice(0, 200)}…` : bodyText;
  return failedResponse(member, agentIndex, {
    failureKind: 'bad-response',
    error: `${member.label} answered ${status} with ${what}: ${JSON.stringify(shown)}`,
    status,
    latencyMs,
    hedged,
  });
}

function describeIndex(agentIndex: unknown): string {
  return typeof agentIndex === 'number'
    ? String(agentIndex)
    : (JSON.stringify(agentIndex) ?? 'undefined');
}
