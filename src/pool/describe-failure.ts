/**
 * Turn transport errors and error answers into messages a person can act on.
 *
 * Recognised answer shapes: vLLM's `{"object":"error","message":...}`, OpenAI's
 * `{"error":{"message":...}}`, the proxy's `{"error":"cannot connect ..."}`, and
 * FastAPI's `{"detail":...}`. Anything else is quoted (shortened).
 */

import type { PoolMember } from './pool-member.js';
import type { FailureKind } from './types.js';

/** A failure ready to be put in a response. */
export interface FailureDescription {
  failureKind: FailureKind;
  error: string;
}

const CONTEXT_OVERFLOW =
  /maximum context length|maximum model length|context length exceeded|context_length_exceeded|too many tokens/i;
const QUOTE_LIMIT = 300;

/** Describe a non-2xx answer. */
export function describeHttpFailure(
  status: number,
  bodyText: string,
  member: PoolMember,
): FailureDescription {
  const { message, source } = extractErrorMessage(bodyText);
  const where = `HTTP ${status} from ${member.label}`;
  if (message === undefined) {
    const quoted = bodyText.trim() === '' ? 'an empty body' : quote(bodyText);
    return { failureKind: status === 504 ? 'timeout' : 'http', error: `${where}: ${quoted}` };
  }
  if (CONTEXT_OVERFLOW.test(message)) {
    return { failureKind: 'context-overflow', error: `${message} (${where})` };
  }
  if (source === 'proxy') {
    // The proxy's own gateway errors: it could not reach the agent, or the agent was silent.
    if (status === 502) return { failureKind: 'connect', error: `${message} (${where})` };
    if (status === 504) return { failureKind: 'timeout', error: `${message} (${where})` };
    return { failureKind: 'http', error: `${message} (${where})` };
  }
  // A 4xx that depends on the request itself: sending it again gets the same answer.
  if (status === 400 || status === 413 || status === 422) {
    return { failureKind: 'invalid-request', error: `${message} (${where})` };
  }
  return { failureKind: 'agent-error', error: `${message} (${where})` };
}

/** The error message inside an error body, and which kind of server wrote it. */
export function extractErrorMessage(bodyText: string): {
  message: string | undefined;
  source: 'agent' | 'proxy' | undefined;
} {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return { message: undefined, source: undefined };
  }
  if (json === null || typeof json !== 'object') return { message: undefined, source: undefined };
  const record = json as Record<string, unknown>;
  if (typeof record.message === 'string') return { message: record.message, source: 'agent' };
  const error = record.error;
  if (typeof error === 'string') return { message: error, source: 'proxy' };
  if (error !== null && typeof error === 'object') {
    const nested = (error as Record<string, unknown>).message;
    if (typeof nested === 'string') return { message: nested, source: 'agent' };
    return { message: quote(JSON.stringify(error)), source: 'agent' };
  }
  if (typeof record.detail === 'string') return { message: record.detail, source: 'agent' };
  if (record.detail !== undefined) {
    return { message: quote(JSON.stringify(record.detail)), source: 'agent' };
  }
  return { message: undefined, source: undefined };
}

/** The `code` of a Node or undici error, looking inside `AggregateError` and `cause`. */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const candidate = current as { code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && candidate.code !== 'UND_ERR_ABORTED') {
      return candidate.code;
    }
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) {
      current = candidate.errors[0];
    } else {
      current = candidate.cause;
    }
  }
  return undefined;
}

/**
 * Describe an error thrown by the HTTP client. `answerStarted` tells whether the
 * response headers had arrived (a failure after that is a broken answer, not a
 * failed connection).
 */
export function describeConnectionError(
  error: unknown,
  member: PoolMember,
  answerStarted: boolean,
): FailureDescription {
  const code = errorCode(error) ?? (error as Error)?.name ?? 'Error';
  const message = (error as Error)?.message;
  const detail = code === 'ECONNREFUSED' || !message ? code : `${code}: ${message}`;
  const agent = `agent ${member.globalIndex}`;
  const proxy = member.proxyAddress;
  const address = proxy === undefined ? addressOf(member) : `the proxy at ${proxy}`;
  // Through the proxy, a connection that fails before any answer is a failure to reach the
  // proxy itself (the agents' failures come back as the proxy's 502/504 answers).
  const failureKind = proxy === undefined ? 'connect' : 'proxy-unreachable';
  if (answerStarted) {
    return {
      failureKind: 'connect',
      error: `connection to ${address} broke in the middle of the answer (${detail}), ${agent}`,
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const hint =
      proxy === undefined
        ? '; if the agents are only reachable from the login node, set proxyUrl or AURORA_SWARM_PROXY_URL'
        : '';
    const host = proxy ?? member.endpoint.host;
    return {
      failureKind,
      error: `cannot resolve host ${host} (${code}), ${agent}${hint}`,
    };
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') {
    return {
      failureKind,
      error: `connection to ${address} closed before any answer (${detail}), ${agent}`,
    };
  }
  const hint = proxy === undefined ? '' : '; is the proxy running and the SSH tunnel up?';
  return {
    failureKind,
    error: `cannot connect to ${address} (${detail}), ${agent}${hint}`,
  };
}

function addressOf(member: PoolMember): string {
  return member.endpoint.url.slice('http://'.length);
}

function quote(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > QUOTE_LIMIT
    ? `${JSON.stringify(trimmed.slice(0, QUOTE_LIMIT))}…`
    : JSON.stringify(trimmed);
}
