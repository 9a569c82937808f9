/**
 * The token check in front of every route (`--token`). Browsers cannot send
 * `Proxy-Authorization`, so the status page takes `?token=` instead and hands out a
 * cookie (status-page-session.ts) that opens the proxy's own read-only routes, never
 * the agents. A pure decision, testable without a socket: the route, the two request
 * headers and the proxy's secrets in, one of three answers out.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createTokenCheck } from '../guards/proxy-token.js';
import { answerAndClose } from '../guards/server-guards.js';
import type { Route } from '../route-request.js';
import { LOCAL_ROUTES } from '../route-table.js';
import {
  createStatusPageSession,
  type StatusPageSession,
} from '../status-page/status-page-session.js';

/**
 * What the gate says about a request:
 * - `allow`: no token is set, the route is open (`/health`), the request carries the
 *   token, or it carries the session cookie on a route the cookie opens;
 * - `session`: a page request without the token: the status page itself decides, from
 *   `?token=` or the cookie, with the proxy's {@link StatusPageSession};
 * - `deny`: answered 401 and the connection closed, nothing more of it read.
 */
export type GateDecision = 'allow' | 'session' | 'deny';

/** The proxy's secrets as the gate uses them; `undefined` when no token is set. */
export interface ProxySecrets {
  /** Checks a `Proxy-Authorization` value (constant time). */
  readonly tokenMatches: (headerValue: string | undefined) => boolean;
  /** The status page's session for this token. */
  readonly session: StatusPageSession;
}

/** The secrets of a proxy started with `token`, or `undefined` without one. */
export function createProxySecrets(token: string | undefined): ProxySecrets | undefined {
  if (token === undefined) return undefined;
  return { tokenMatches: createTokenCheck(token), session: createStatusPageSession(token) };
}

const OPEN_KINDS: ReadonlySet<string> = new Set(
  LOCAL_ROUTES.filter((route) => route.open).map((route) => route.kind),
);
// The proxy's own read-only routes; never the forwarded ones, whose requests reach agents.
const SESSION_COOKIE_KINDS: ReadonlySet<string> = new Set(
  LOCAL_ROUTES.filter((route) => route.sessionCookie).map((route) => route.kind),
);

/**
 * Decide whether a request may reach `route`. `headers` is read only when a token
 * is set (Node builds `request.headers` lazily), and the cookie only when the token
 * is missing or wrong.
 */
export function gateRequest(
  route: Route,
  request: { readonly headers: Pick<IncomingHttpHeaders, 'proxy-authorization' | 'cookie'> },
  secrets: ProxySecrets | undefined,
): GateDecision {
  if (secrets === undefined || OPEN_KINDS.has(route.kind)) return 'allow';
  const headers = request.headers;
  if (secrets.tokenMatches(headers['proxy-authorization'])) return 'allow';
  if (route.kind === 'page') return 'session';
  if (SESSION_COOKIE_KINDS.has(route.kind) && secrets.session.cookieMatches(headers.cookie)) {
    return 'allow';
  }
  return 'deny';
}

/**
 * Answer a denied request: 401 with `WWW-Authenticate`, then close the connection.
 * Without the token nothing more of it is read (no slow body to drain).
 */
export function answerDenied(response: ServerResponse): void {
  answerAndClose(
    response,
    401,
    'missing or wrong proxy token: send the header "Proxy-Authorization: Bearer <token>"',
    ['www-authenticate', 'Bearer realm="aurora-swarm-proxy"'],
  );
}
