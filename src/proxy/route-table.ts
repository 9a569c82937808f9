/**
 * Every route of the proxy, written once. The router (route-request.ts) reads the
 * local paths from {@link LOCAL_ROUTES}; the request gate reads which of them need
 * no token and which the status page's cookie opens; the 404 message, the
 * `--help` of `aurora-swarm-proxy` and the route table of docs/proxy.md are all made
 * from {@link ROUTE_TABLE} (test/proxy/route-table.test.ts keeps the doc in step).
 * A new route is a new row here plus its handler; nothing else lists routes.
 */

/** The proxy's own routes, by what answers them. */
export type LocalRouteKind = 'page' | 'health' | 'status' | 'hosts' | 'metrics';

/** One row of the route table. */
export interface RouteDescription {
  /** `GET` (also answers `HEAD`; other methods get 405) or `ANY` (forwarded as sent). */
  readonly method: 'GET' | 'ANY';
  /** The path as users write it, e.g. `/agent/{index}/{path}`. */
  readonly path: string;
  /** How the 404 message names the route. */
  readonly name: string;
  /** Lines of the CLI help after the path (the first beside it, the rest indented). */
  readonly help: readonly string[];
  /** The "Answer" cell of docs/proxy.md's table (Markdown). */
  readonly docs: string;
}

/** A route the proxy answers itself (never forwarded). */
export interface LocalRouteDescription extends RouteDescription {
  readonly method: 'GET';
  readonly kind: LocalRouteKind;
  /** Answered without the proxy token (liveness probes). */
  readonly open: boolean;
  /** Opened by the status page's session cookie in place of the token (read-only routes). */
  readonly sessionCookie: boolean;
}

/** The proxy's own routes, matched on the exact path (the query string is ignored). */
export const LOCAL_ROUTES: readonly LocalRouteDescription[] = [
  {
    kind: 'page',
    method: 'GET',
    path: '/',
    name: '/ (status page)',
    open: false,
    sessionCookie: true,
    help: [
      'the status page (HTML); with --token, open it once as /?token=<token>',
      'to get its cookie',
    ],
    docs: 'The [status page](#status-page) (HTML). With a token: `/?token=<token>` sets its cookie.',
  },
  {
    kind: 'health',
    method: 'GET',
    path: '/health',
    name: '/health',
    open: true,
    sessionCookie: false,
    help: ['{"status": "ok"} (never needs the token)'],
    docs: '`200 {"status":"ok"}`: the proxy is alive (whatever the agents\' state). Never needs the token.',
  },
  {
    kind: 'status',
    method: 'GET',
    path: '/status',
    name: '/status',
    open: false,
    sessionCookie: true,
    help: ['agents, health, load, errors and latency percentiles (JSON)'],
    docs: 'The swarm at a glance, see [`/status`](#status).',
  },
  {
    kind: 'hosts',
    method: 'GET',
    path: '/hosts',
    name: '/hosts',
    open: false,
    sessionCookie: true,
    help: ['the hostfile\'s agents as {"hosts": [{host, port, tags}]}'],
    docs: '`200 {"hosts": [{"host", "port", "tags"}...]}` in hostfile order.',
  },
  {
    kind: 'metrics',
    method: 'GET',
    path: '/metrics',
    name: '/metrics',
    open: false,
    sessionCookie: true,
    help: ['Prometheus metrics'],
    docs: 'Prometheus text format, see [Metrics](#metrics).',
  },
];

/** The forwarded routes (matched by prefix in route-request.ts). */
export const FORWARDED_ROUTES: readonly RouteDescription[] = [
  {
    method: 'ANY',
    path: '/agent/{index}/{path}',
    name: '/agent/{index}/{path}',
    help: [
      'forwarded to http://host:port/{path} of hostfile line {index}',
      '(even when that agent is unhealthy)',
    ],
    docs: 'Forwarded to `http://host:port/{path}` of hostfile line `{index}` (0-based). `/agent/3` alone forwards to `/`. Forwarded even when that agent is unhealthy: the index was asked for explicitly.',
  },
  {
    method: 'ANY',
    path: '/v1/{path}',
    name: '/v1/{path}',
    help: [
      'forwarded to /v1/{path} of a healthy agent chosen by the proxy:',
      'the least busy of two random ones; "X-Agent-Tag: key=value"',
      'restricts the choice, "X-Session-Id: <id>" pins a session to',
      'one agent; the answer names it in X-Agent-Index',
    ],
    docs: 'Forwarded to `/v1/{path}` of a healthy agent chosen by the proxy, see [One endpoint for the whole swarm](#one-endpoint-for-the-whole-swarm-v1).',
  },
];

/** Every route, in the order the help and the docs list them. */
export const ROUTE_TABLE: readonly RouteDescription[] = [...LOCAL_ROUTES, ...FORWARDED_ROUTES];

function listed(names: readonly string[]): string {
  return names.length < 2
    ? names.join('')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The message of a 404: every route the proxy has. */
export const NOT_FOUND_MESSAGE = `not found: the routes are ${listed(ROUTE_TABLE.map((route) => route.name))}`;
