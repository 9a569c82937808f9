/**
 * Raw access to one agent of a pool, for what the pool's own calls do not cover: the
 * settings of an OpenAI SDK client for that agent (`openaiConfig`, the Python original's
 * `pool._openai_clients[i]`) and a request to any other route (`request`: `/v1/models`,
 * `/tokenize`, `/metrics`, …). Both go where the pool's own requests go — straight to the
 * agent, or through the proxy as `/agent/{globalIndex}/…` with `X-Timeout` and the proxy
 * token — so a script never builds those URLs by hand.
 */
import { STATUS_CODES } from 'node:http';
import type { Dispatcher, Headers, Response } from 'undici';
import { InvalidOptionError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { MAX_TIMER_DELAY_MS } from '../internal/timer-limit.js';
import { undiciIndex } from '../internal/undici-agent.js';
import { type PoolMember, routingHeaders } from './pool-member.js';
import { positiveNumber, type ResolvedPoolOptions } from './pool-options.js';
import type { PoolTransport } from './pool-transport.js';

/** What `new OpenAI({ apiKey, ...pool.openaiConfig(i) })` needs to reach agent i. */
export interface OpenAIClientConfig {
  /** The agent's OpenAI-compatible API: `http://host:port/v1`, or `{proxyUrl}/agent/{globalIndex}/v1`. */
  baseURL: string;
  /**
   * The pool's `headers`, and through the proxy its `X-Timeout` (the pool's `timeoutMs` in
   * seconds) and `Proxy-Authorization: Bearer <proxyToken>` when the pool has a token.
   */
  defaultHeaders: Record<string, string>;
}

/** Options of `pool.request`: a subset of `fetch`'s, plus the request's timeout. */
export interface AgentRequestInit {
  /** @default 'GET' */
  method?: string;
  /** Headers of this request, over the pool's own (`headers`, and the proxy's in proxy mode). */
  headers?: Record<string, string> | [string, string][] | Headers;
  /** The request body (send JSON as a string with a `content-type` header). */
  body?: string | Uint8Array | null;
  /** Aborts the request, body included. */
  signal?: AbortSignal;
  /**
   * Abort the request (body included) after this many milliseconds; sent to the proxy as
   * `X-Timeout`. @default the pool's `timeoutMs`
   */
  timeoutMs?: number;
}

/** The OpenAI SDK settings for `member`. */
export function openaiClientConfig(
  member: PoolMember,
  options: ResolvedPoolOptions,
): OpenAIClientConfig {
  return {
    baseURL: `${member.origin}${member.pathPrefix}/v1`,
    defaultHeaders: routingHeaders(member, options, options.timeoutMs),
  };
}

/** Statuses whose response has no body (a `Response` refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * `path` of `member` through the pool's own connections, as a WHATWG `Response`. Resolves
 * to the answer whatever its status; rejects when none came: with undici's connection error
 * (its `code`, e.g. `ECONNREFUSED`), a `TimeoutError` after `timeoutMs`, or the caller's
 * abort reason. Sent with undici's `request` rather than `fetch`, which refuses the ports
 * of its "bad ports" list (6000, 6665–6669, …) an agent may well listen on.
 */
export async function requestAgent(
  transport: PoolTransport,
  member: PoolMember,
  path: string,
  init: AgentRequestInit | undefined,
): Promise<Response> {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new InvalidOptionError(
      `request: path must be a string starting with "/" (e.g. "/v1/models"), got ${describeValue(path)}`,
    );
  }
  if (init !== undefined && (init === null || typeof init !== 'object')) {
    throw new InvalidOptionError(`request: init must be an object, got ${describeValue(init)}`);
  }
  const { method = 'GET', headers: own, body, signal, timeoutMs: requested } = init ?? {};
  const timeoutMs = positiveNumber('timeoutMs', requested, transport.options.timeoutMs);
  // fetch's classes, and so undici's whole index, only for a caller of `pool.request`.
  const undici = undiciIndex();
  const headers = new undici.Headers(routingHeaders(member, transport.options, timeoutMs));
  for (const [name, value] of new undici.Headers(own ?? undefined)) headers.set(name, value);
  // AbortSignal.timeout fires at once past what a Node timer holds (timer-limit.ts).
  const timeout = AbortSignal.timeout(Math.min(timeoutMs, MAX_TIMER_DELAY_MS));
  const answer = await transport.dispatcher.request({
    origin: member.origin,
    path: member.pathPrefix + path,
    method: method.toUpperCase() as Dispatcher.HttpMethod,
    headers: Object.fromEntries(headers),
    body: body ?? null,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const responseHeaders = new undici.Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
  }
  const empty = NULL_BODY_STATUSES.has(answer.statusCode) || method.toUpperCase() === 'HEAD';
  if (empty) await answer.body.dump();
  return new undici.Response(empty ? null : (answer.body as AsyncIterable<Uint8Array>), {
    status: answer.statusCode,
    statusText: STATUS_CODES[answer.statusCode] ?? '',
    headers: responseHeaders,
  });
}
