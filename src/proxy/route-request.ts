/**
 * Path-prefix routing: `/agent/{index}/{path}` goes to hostfile line `index`, with
 * `/{path}` and the query string kept byte for byte (no decoding of `%2F`, no
 * resolution of `..`): the request target is cut, never parsed as a URL. `/v1` and
 * everything under it goes to an agent the proxy picks (pooled). The proxy's own
 * routes are the exact paths of `LOCAL_ROUTES` (route-table.ts).
 */
import { LOCAL_ROUTES, type LocalRouteKind } from './route-table.js';

/** A request for one of the proxy's own routes, or for no route at all. */
export interface LocalRoute {
  readonly kind: LocalRouteKind | 'not-found';
}

/** A request for an agent of the proxy's choosing, forwarded at `path` (the request target). */
export interface PooledRoute {
  readonly kind: 'pooled';
  readonly path: string;
}

/** A request to forward to agent `index`, at `path` (starts with `/`, query included). */
export interface AgentRoute {
  readonly kind: 'agent';
  readonly index: number;
  readonly path: string;
}

/** An `/agent/...` request whose index is missing, malformed or out of range (answered 400). */
export interface BadIndexRoute {
  readonly kind: 'bad-index';
  readonly message: string;
}

/** Where a request goes. */
export type Route = LocalRoute | AgentRoute | PooledRoute | BadIndexRoute;

const LOCAL_ROUTE_BY_PATH: ReadonlyMap<string, LocalRoute> = new Map(
  LOCAL_ROUTES.map(({ path, kind }): [string, LocalRoute] => [path, { kind }]),
);
const NOT_FOUND: LocalRoute = { kind: 'not-found' };

const AGENT_PREFIX = '/agent/';
const POOLED_PREFIX = '/v1';
const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;
const DIGIT_ZERO = 0x30;
const DIGIT_NINE = 0x39;
// Longer digit strings cannot be an index of any real hostfile and would lose precision.
const MAX_INDEX_DIGITS = 15;
const MAX_QUOTED_LENGTH = 40;

function badIndex(message: string): BadIndexRoute {
  return { kind: 'bad-index', message };
}

function quote(text: string): string {
  return JSON.stringify(
    text.length > MAX_QUOTED_LENGTH ? `${text.slice(0, MAX_QUOTED_LENGTH)}...` : text,
  );
}

function routeAgent(url: string, agentCount: number): Route {
  const start = AGENT_PREFIX.length;
  let end = start;
  let digitsOnly = true;
  while (end < url.length) {
    const code = url.charCodeAt(end);
    if (code === SLASH || code === QUESTION_MARK) break;
    if (code < DIGIT_ZERO || code > DIGIT_NINE) digitsOnly = false;
    end++;
  }
  if (end === start) {
    return badIndex('missing agent index: use /agent/{index}/{path}');
  }
  const text = url.slice(start, end);
  if (!digitsOnly) {
    return badIndex(
      `invalid agent index ${quote(text)}: expected a decimal integer in [0, ${agentCount})`,
    );
  }
  const index = text.length > MAX_INDEX_DIGITS ? Number.POSITIVE_INFINITY : Number(text);
  if (index >= agentCount) {
    const shown = index === Number.POSITIVE_INFINITY ? quote(text) : String(index);
    return badIndex(`agent index ${shown} out of range [0, ${agentCount})`);
  }
  let path: string;
  if (end === url.length) path = '/';
  else if (url.charCodeAt(end) === QUESTION_MARK) path = `/${url.slice(end)}`;
  else path = url.slice(end);
  return { kind: 'agent', index, path };
}

/**
 * Route a request target (`IncomingMessage.url`, origin form) for a swarm of
 * `agentCount` agents.
 *
 * @example routeRequest('/agent/3/v1/models?x=1', 4) // { kind: 'agent', index: 3, path: '/v1/models?x=1' }
 */
export function routeRequest(url: string, agentCount: number): Route {
  if (url.startsWith(AGENT_PREFIX)) return routeAgent(url, agentCount);
  if (url.startsWith(POOLED_PREFIX)) {
    const next = url.charCodeAt(POOLED_PREFIX.length);
    // `/v1`, `/v1/...` or `/v1?...`, not `/v10`.
    if (Number.isNaN(next) || next === SLASH || next === QUESTION_MARK) {
      return { kind: 'pooled', path: url };
    }
  }
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const local = LOCAL_ROUTE_BY_PATH.get(path);
  if (local !== undefined) return local;
  if (path === '/agent') return badIndex('missing agent index: use /agent/{index}/{path}');
  return NOT_FOUND;
}
