/**
 * Header rules of the proxy (RFC 9110 §7.6.1). Hop-by-hop headers describe one
 * connection, not the message, so they are never relayed in either direction:
 * `Connection` and every header it names, `Keep-Alive`, `Proxy-Authorization`,
 * `Proxy-Authenticate`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`,
 * `Upgrade`. On the way to the agent `Host` is the agent's own (the HTTP client adds
 * it from the hostfile's address), `X-Timeout` is the proxy's and `Expect` was already
 * answered by the proxy's server, and the status page's session cookies are the
 * proxy's ({@link withoutSessionCookies}). Everything else — notably `Authorization`, which
 * vLLM's `--api-key` checks — passes unchanged, names in their original case. A
 * pooled request (`/v1/*`) also keeps `X-Agent-Tag` and `X-Session-Id` to the proxy.
 * On the way back, the agent's CORS headers (`Access-Control-*`: vLLM grants `*` by
 * default) are dropped: which web pages may read answers is the proxy's decision
 * (guards/cross-site-guard.ts), never an agent's.
 *
 * Both functions run once per request, so they scan the header list once and only
 * take a second pass in the rare case where `Connection` names extra headers.
 */
import { SESSION_COOKIE_PREFIX } from '../guards/proxy-token.js';
import { isNamed } from '../guards/request-head.js';

const DROP = 1;
const CONNECTION = 2;
const TIMEOUT = 3;
const CONTENT_LENGTH = 4;
const TRANSFER_ENCODING = 5;
const COOKIE = 6;
const AGENT_TAG = 7;
const SESSION_ID = 8;

/** Lower-case names never relayed, in either direction. */
const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Prefix of the CORS response headers, which only the proxy sets. */
const CORS_PREFIX = 'access-control-';
const LETTER_A = 0x61;

/** Name of the request header that overrides the proxy's timeout, in seconds. */
const TIMEOUT_HEADER = 'x-timeout';
/** Name of the request header filtering a pooled request's agents by tag (`key=value`). */
export const AGENT_TAG_HEADER = 'x-agent-tag';
/** Name of the request header pinning a pooled request's session to one agent. */
export const SESSION_ID_HEADER = 'x-session-id';

const REQUEST_RULES = new Map<string, number>([
  ['connection', CONNECTION],
  ['keep-alive', DROP],
  ['proxy-authorization', DROP],
  ['proxy-authenticate', DROP],
  ['proxy-connection', DROP],
  ['te', DROP],
  ['trailer', DROP],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['upgrade', DROP],
  ['host', DROP],
  ['expect', DROP],
  [TIMEOUT_HEADER, TIMEOUT],
  ['content-length', CONTENT_LENGTH],
  ['cookie', COOKIE],
]);

const POOLED_REQUEST_RULES = new Map<string, number>([
  ...REQUEST_RULES,
  [AGENT_TAG_HEADER, AGENT_TAG],
  [SESSION_ID_HEADER, SESSION_ID],
]);

/** What the proxy sends upstream, read from the client's raw headers in one pass. */
export interface UpstreamRequestHead {
  /** Header names and values, alternating, as they go to the agent. */
  headers: string[];
  /** The client's `X-Timeout` value, if any (first occurrence). */
  timeoutHeader: string | undefined;
  /** Whether the request carries a body (non-zero `Content-Length` or `Transfer-Encoding`). */
  hasBody: boolean;
  /** The `Content-Length` value, if any (first occurrence, as sent). */
  contentLength: string | undefined;
  /** Pooled requests only: every `X-Agent-Tag` value. */
  agentTags: string[] | undefined;
  /** Pooled requests only: the `X-Session-Id` value (first occurrence). */
  sessionId: string | undefined;
}

/**
 * `cookieHeader` without the status page's cookies, or `undefined` when nothing is
 * left. Other cookies are kept as sent.
 */
export function withoutSessionCookies(cookieHeader: string): string | undefined {
  if (!cookieHeader.includes(SESSION_COOKIE_PREFIX)) return cookieHeader;
  const kept = cookieHeader
    .split(';')
    .filter((pair) => !pair.trim().startsWith(SESSION_COOKIE_PREFIX))
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '');
  return kept.length === 0 ? undefined : kept.join('; ');
}

/** Names listed in `Connection` values, other than the `close`/`keep-alive` options. */
function connectionListedNames(values: readonly string[]): Set<string> | undefined {
  let names: Set<string> | undefined;
  for (const value of values) {
    // The common case on every keep-alive request and response: nothing listed.
    if (isNamed(value, 'keep-alive') || isNamed(value, 'close')) continue;
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '' || name === 'close' || name === 'keep-alive') continue;
      names ??= new Set();
      names.add(name);
    }
  }
  return names;
}

function withoutNames(headers: string[], names: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index] as string;
    if (!names.has(name.toLowerCase())) kept.push(name, headers[index + 1] as string);
  }
  return kept;
}

/**
 * Build the agent-bound header list from the client's `rawHeaders`
 * (`IncomingMessage.rawHeaders`: names and values alternating, as received).
 * With `pooled`, `X-Agent-Tag` and `X-Session-Id` are read and not forwarded.
 */
export function buildUpstreamRequestHead(
  rawHeaders: readonly string[],
  pooled = false,
): UpstreamRequestHead {
  const rules = pooled ? POOLED_REQUEST_RULES : REQUEST_RULES;
  let headers: string[] = [];
  let timeoutHeader: string | undefined;
  let hasBody = false;
  let contentLength: string | undefined;
  let agentTags: string[] | undefined;
  let sessionId: string | undefined;
  let connectionValues: string[] | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    const value = rawHeaders[index + 1] as string;
    switch (rules.get(name.toLowerCase())) {
      case undefined:
        headers.push(name, value);
        break;
      case CONTENT_LENGTH:
        if (value.trim() !== '0') hasBody = true;
        contentLength ??= value;
        headers.push(name, value);
        break;
      case AGENT_TAG:
        agentTags ??= [];
        agentTags.push(value);
        break;
      case SESSION_ID:
        sessionId ??= value;
        break;
      case TRANSFER_ENCODING:
        hasBody = true;
        break;
      case TIMEOUT:
        timeoutHeader ??= value;
        break;
      case COOKIE: {
        const kept = withoutSessionCookies(value);
        if (kept !== undefined) headers.push(name, kept);
        break;
      }
      case CONNECTION:
        connectionValues ??= [];
        connectionValues.push(value);
        break;
      default:
        break;
    }
  }
  if (connectionValues !== undefined) {
    const listed = connectionListedNames(connectionValues);
    if (listed !== undefined) headers = withoutNames(headers, listed);
  }
  return { headers, timeoutHeader, hasBody, contentLength, agentTags, sessionId };
}

/**
 * Build the client-bound header list from the agent's response headers (lower-case
 * names, as undici parses them; repeated headers such as `Set-Cookie` as arrays),
 * without hop-by-hop and `Access-Control-*` headers.
 * Server-sent event streams get `X-Accel-Buffering: no` so that an nginx in front
 * of the proxy relays them unbuffered too.
 */
export function buildClientResponseHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string[] {
  const result: string[] = [];
  const connection = headers.connection;
  const listed =
    connection === undefined
      ? undefined
      : connectionListedNames(typeof connection === 'string' ? [connection] : connection);
  let eventStream = false;
  let hasAccelBuffering = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || listed?.has(name)) continue;
    if (name.charCodeAt(0) === LETTER_A && name.startsWith(CORS_PREFIX)) continue;
    if (name === 'content-type') {
      eventStream = (typeof value === 'string' ? value : (value[0] ?? ''))
        .trimStart()
        .toLowerCase()
        .startsWith('text/event-stream');
    } else if (name === 'x-accel-buffering') {
      hasAccelBuffering = true;
    }
    if (typeof value === 'string') {
      result.push(name, value);
    } else {
      for (const item of value) result.push(name, item);
    }
  }
  if (eventStream && !hasAccelBuffering) result.push('x-accel-buffering', 'no');
  return result;
}
