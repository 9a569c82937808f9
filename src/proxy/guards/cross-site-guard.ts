/**
 * What keeps web pages out of the proxy, checked before any route (the token gate
 * included): the `Host` allowlist against DNS rebinding (host-allowlist.ts), and the
 * refusal of requests that web pages of other sites make — a request whose `Origin`
 * is not the proxy's own (the status page's) or one listed with `--allow-origin`, and
 * a no-`Origin` request the browser marks `Sec-Fetch-Site: cross-site` that is not a
 * plain navigation (an `<img>`, a `<script>`). Requests without these headers — curl,
 * the SDKs, the pools, scripts — are never affected.
 *
 * CORS is the proxy's, never the agents': only a listed origin gets
 * `Access-Control-Allow-Origin`, on its answers and on its preflights (which the proxy
 * answers itself); vLLM's own CORS headers are dropped from forwarded answers
 * (hop-by-hop-headers.ts).
 *
 * {@link CrossSiteGuard.guard} runs on every request, on the fields of the one pass over
 * `rawHeaders` that the limits share (request-head.ts). Building `request.headers`
 * (Node does that lazily) is left to the routes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidOptionError } from '../../errors.js';
import { describeValue } from '../../internal/describe-value.js';
import type { ProxyLogger } from '../proxy-logger.js';
import { HOST_ALLOWED, HOST_MALFORMED, type HostAllowlist } from './host-allowlist.js';
import { isNamed, type RequestHeadFields, scanRequestHead } from './request-head.js';
import { answerAndClose } from './server-guards.js';

/**
 * What the guard says about a request:
 * - `pass`: no browser concern (no `Origin`, or the proxy's own);
 * - `cors`: from a listed origin: answered as usual, with CORS headers for it;
 * - `preflight`: a CORS preflight from the proxy's own or a listed origin, answered 204;
 * - `malformed-host`: a `Host` that is not `name[:port]`, or more than one (400);
 * - `foreign-host`: a `Host` that is not a name of this proxy (403);
 * - `foreign-origin`: an `Origin` neither the proxy's nor listed, or more than one (403);
 * - `cross-site`: no `Origin`, but `Sec-Fetch-Site: cross-site` outside a navigation (403).
 */
export type CrossSiteVerdict =
  | 'pass'
  | 'cors'
  | 'preflight'
  | 'malformed-host'
  | 'foreign-host'
  | 'foreign-origin'
  | 'cross-site';

/** Methods a listed origin's preflight is told it may use (every one the proxy forwards). */
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
/** How long a browser may cache a preflight's answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = '600';
/** Response headers a listed origin's scripts may read beyond the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'X-Agent-Index';
const REFUSAL_LOG_INTERVAL_MS = 10_000;
const MAX_QUOTED_LENGTH = 100;

/**
 * Validate one `--allow-origin` value: an origin as browsers send it
 * (`scheme://host[:port]`, no path), `null` (sandboxed pages, `file:`), or `*` (any
 * origin: the cross-site check off). A trailing `/` is dropped.
 * @throws {InvalidOptionError} for anything else.
 */
export function parseAllowedOrigin(value: unknown): string {
  const text = typeof value === 'string' ? value.trim().replace(/\/$/, '') : '';
  if (text === '*' || text === 'null') return text;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const bare =
    url !== undefined &&
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    !text.endsWith('?');
  if (!bare || url === undefined) {
    throw new InvalidOptionError(
      `invalid value ${describeValue(value)} for --allow-origin: expected an origin like https://notebooks.example.org or http://localhost:8888 (scheme, host and port only), null, or *`,
    );
  }
  return url.origin;
}

/** Whether `origin` is `http://{host}` or `https://{host}`: the page is the proxy's own. */
function isOwnOrigin(origin: string, host: string): boolean {
  const schemeLength = origin.length - host.length;
  if (schemeLength !== 7 && schemeLength !== 8) return false;
  if (!origin.endsWith(host)) return false;
  return schemeLength === 7 ? origin.startsWith('http://') : origin.startsWith('https://');
}

/** The first value of header `lower` in `rawHeaders`. */
function headerValue(rawHeaders: readonly string[], lower: string): string | undefined {
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    if (isNamed(name, lower)) return rawHeaders[index + 1];
  }
  return undefined;
}

function quote(text: string): string {
  return JSON.stringify(
    text.length > MAX_QUOTED_LENGTH ? `${text.slice(0, MAX_QUOTED_LENGTH)}...` : text,
  );
}

/** The host name of a `Host` value, without its port. */
function hostNameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** Options of {@link CrossSiteGuard}. */
export interface CrossSiteGuardOptions {
  /** The `Host` names of this proxy. */
  readonly hosts: HostAllowlist;
  /** `--allow-origin` values, as {@link parseAllowedOrigin} returns them. */
  readonly allowOrigins: readonly string[];
  /** Where refusals are logged (the first, then at most one line every 10 s). */
  readonly logger: ProxyLogger;
}

/** The checks against DNS rebinding and cross-site requests, built once per proxy. */
export class CrossSiteGuard {
  readonly #hosts: HostAllowlist;
  readonly #origins: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  readonly #logger: ProxyLogger;
  #refused = 0;
  #lastLogAt = Number.NEGATIVE_INFINITY;

  constructor(options: CrossSiteGuardOptions) {
    this.#hosts = options.hosts;
    this.#origins = new Set(options.allowOrigins);
    this.#anyOrigin = this.#origins.has('*');
    this.#logger = options.logger;
  }

  /** Decide about a request from its method and raw headers. Pure; never throws. */
  screen(method: string | undefined, rawHeaders: readonly string[]): CrossSiteVerdict {
    return this.verdict(method, scanRequestHead(rawHeaders));
  }

  /** Decide about a request from its method and the scanned head. Pure; never throws. */
  verdict(method: string | undefined, head: RequestHeadFields): CrossSiteVerdict {
    const { host, origin, fetchSite, fetchMode, hosts, origins, preflight } = head;
    // HTTP/1.0 without Host is let through: no browser sends such a request.
    if (host !== undefined) {
      if (hosts > 1) return 'malformed-host';
      const check = this.#hosts.check(host);
      if (check !== HOST_ALLOWED)
        return check === HOST_MALFORMED ? 'malformed-host' : 'foreign-host';
    }
    if (origin === undefined) {
      if (fetchSite === 'cross-site' && fetchMode !== 'navigate' && !this.#anyOrigin) {
        return 'cross-site';
      }
      return 'pass';
    }
    if (origins > 1) return 'foreign-origin';
    const own = host !== undefined && isOwnOrigin(origin, host);
    if (!own && !this.#anyOrigin && !this.#origins.has(origin)) return 'foreign-origin';
    if (preflight && method === 'OPTIONS') return 'preflight';
    return own ? 'pass' : 'cors';
  }

  /**
   * Screen `request` (its head as {@link scanRequestHead} read it) and act on the verdict: refuse it (and close the connection,
   * nothing more of it read), answer its preflight, or add the CORS headers of a
   * listed origin to the answer to come. Returns whether the request was answered.
   */
  guard(request: IncomingMessage, response: ServerResponse, head: RequestHeadFields): boolean {
    const verdict = this.verdict(request.method, head);
    if (verdict === 'pass') return false;
    const raw = request.rawHeaders;
    const origin = head.origin ?? '';
    switch (verdict) {
      case 'cors':
        response.setHeader('access-control-allow-origin', origin);
        response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
        response.setHeader('vary', 'Origin');
        return false;
      case 'preflight':
        this.#answerPreflight(raw, origin, response);
        return true;
      case 'malformed-host':
        this.#refuse(
          request,
          response,
          400,
          'malformed Host header: expected one host name or address, with an optional :port',
        );
        return true;
      case 'foreign-host': {
        const host = head.host ?? '';
        this.#refuse(
          request,
          response,
          403,
          `Host ${quote(host)} is not a name of this proxy: refused as a possible DNS-rebinding attack; if clients reach the proxy by this name, start it with --allow-host ${hostNameOf(host)}`,
        );
        return true;
      }
      case 'foreign-origin':
        this.#refuse(
          request,
          response,
          403,
          `request from a web page of ${quote(origin)} refused (cross-origin); to let that site's pages use the proxy, start it with --allow-origin ${origin || 'ORIGIN'}`,
        );
        return true;
      case 'cross-site':
        this.#refuse(
          request,
          response,
          403,
          'request from a web page of another site refused (Sec-Fetch-Site: cross-site)',
        );
        return true;
    }
  }

  #answerPreflight(raw: readonly string[], origin: string, response: ServerResponse): void {
    const headers = [
      'access-control-allow-origin',
      origin,
      'access-control-allow-methods',
      ALLOWED_METHODS,
      'access-control-max-age',
      PREFLIGHT_MAX_AGE_SECONDS,
      'vary',
      'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      'content-length',
      '0',
    ];
    const requested = headerValue(raw, 'access-control-request-headers');
    // A list of header names (tokens); anything else is not echoed.
    if (requested !== undefined && /^[\w!#$%&'*+.^`|~, -]*$/.test(requested)) {
      headers.push('access-control-allow-headers', requested);
    }
    // Chrome's Private Network Access: a public page asking for a local address.
    if (headerValue(raw, 'access-control-request-private-network') === 'true') {
      headers.push('access-control-allow-private-network', 'true');
    }
    response.writeHead(204, headers);
    response.end();
  }

  #refuse(
    request: IncomingMessage,
    response: ServerResponse,
    statusCode: number,
    message: string,
  ): void {
    this.#refused++;
    const now = performance.now();
    if (now - this.#lastLogAt >= REFUSAL_LOG_INTERVAL_MS) {
      this.#lastLogAt = now;
      this.#logger.warning(
        `refused ${request.method} ${quote(request.url ?? '')} from ${request.socket.remoteAddress ?? 'a Unix socket'}: ${message} (${this.#refused} refused so far; at most one such line every 10 s)`,
      );
    }
    answerAndClose(response, statusCode, message);
  }
}
