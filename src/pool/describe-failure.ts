/**
 * Turn transport errors and error answers into messages a person can act on.
 *
 * Recognised answer shapes: vLLM ≥ 0.10.1's (and OpenAI's) `{"error":{"message","param",...}}`,
 * vLLM ≤ 0.10.0's flat `{"object":"error","message":...}`, the proxy's
 * `{"error":"cannot connect ..."}`, and FastAPI's `{"detail":...}`. Anything else is
 * quoted (shortened). test/fixtures/vllm/ holds the bodies, cited to vLLM's files.
 */

import type { PoolMember } from './pool-member.js';
import type { FailureKind } from './types.js';

/** A failure ready to be put in a response. */
export interface FailureDescription {
  failureKind: FailureKind;
  error: string;
}

/**
 * Every wording vLLM has used for "prompt plus max_tokens do not fit": ≤ 0.10.0 "This
 * model's maximum context length is …"; 0.10.x–0.11 "'max_tokens' or
 * 'max_completion_tokens' is too large"; current "the model's context length is only …,
 * resulting in a maximum input length of …" and "max_tokens=… cannot be greater than
 * max_model_len"; the V1 engine's "longer than the maximum model length"; OpenAI's
 * `context_length_exceeded`. Retrying the same request can never succeed.
 */
const CONTEXT_OVERFLOW =
  /maximum context length|maximum model length|context length is only|maximum input length|is too large: \d+\. This model's maximum|cannot be greater than max_model_len|context length exceeded|context_length_exceeded|too many tokens/i;
/** vLLM ≥ 0.15's `VLLMValidationError` names the prompt's length as `param: "input_tokens"`. */
const OVERFLOW_PARAMS: ReadonlySet<string> = new Set(['input_tokens']);
const QUOTE_LIMIT = 300;

/** Describe a non-2xx answer. */
export function describeHttpFailure(
  status: number,
  bodyText: string,
  member: PoolMember,
): FailureDescription {
  const { message, source, param } = extractErrorMessage(bodyText);
  const where = `HTTP ${status} from ${member.label}`;
  if (message === undefined) {
    const quoted = bodyText.trim() === '' ? 'an empty body' : quote(bodyText);
    return { failureKind: status === 504 ? 'timeout' : 'http', error: `${where}: ${quoted}` };
  }
  if (isContextOverflow(message, param)) {
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

/** Whether an agent's error message (and `param`, when it sent one) says the prompt does not fit. */
export function isContextOverflow(message: string, param?: string | undefined): boolean {
  return (param !== undefined && OVERFLOW_PARAMS.has(param)) || CONTEXT_OVERFLOW.test(message);
}

/** The message of an error an agent sent inside a 200 stream, classified like an HTTP error. */
export function describeStreamError(eventData: string): FailureDescription {
  const { message, param } = extractErrorMessage(eventData);
  const text = message ?? quote(eventData);
  return {
    failureKind: isContextOverflow(text, param) ? 'context-overflow' : 'agent-error',
    error: text,
  };
}

/** An error body's parts. */
export interface ExtractedError {
  message: string | undefined;
  /** Which kind of server wrote it. */
  source: 'agent' | 'proxy' | undefined;
  /** The request field vLLM names as the culprit (`param`), when a string. */
  param?: string | undefined;
}

/** The error message inside an error body, and which kind of server wrote it. */
export function extractErrorMessage(bodyText: string): ExtractedError {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    return { message: undefined, source: undefined };
  }
  if (json === null || typeof json !== 'object') return { message: undefined, source: undefined };
  const record = json as Record<string, unknown>;
  if (typeof record.message === 'string') {
    return { message: record.message, source: 'agent', param: stringParam(record.param) };
  }
  const error = record.error;
  if (typeof error === 'string') return { message: error, source: 'proxy' };
  if (error !== null && typeof error === 'object') {
    const nested = error as Record<string, unknown>;
    const param = stringParam(nested.param);
    if (typeof nested.message === 'string')
      return { message: nested.message, source: 'agent', param };
    return { message: quote(JSON.stringify(error)), source: 'agent', param };
  }
  if (typeof record.detail === 'string') return { message: record.detail, source: 'agent' };
  if (record.detail !== undefined) {
    return { message: quote(JSON.stringify(record.detail)), source: 'agent' };
  }
  return { message: undefined, source: undefined };
}

function stringParam(param: unknown): string | undefined {
  return typeof param === 'string' ? param : undefined;
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
