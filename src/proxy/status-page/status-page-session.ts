/**
 * How a browser gets past `--token`. Browsers cannot set `Proxy-Authorization` from a
 * page (it is a forbidden header), so `GET /?token=<token>` trades the token for an
 * HttpOnly, SameSite=Strict cookie and redirects to the page without the token in
 * the address bar. The cookie opens the proxy's own read-only routes only (the page,
 * `/status`, `/metrics`, `/hosts`), never the agents: forwarded requests lose it
 * (`withoutSessionCookies` in forward/hop-by-hop-headers.ts).
 *
 * The cookie's value is derived from the token with scrypt: it is the same in every
 * proxy process started with that token (so it survives restarts and works across
 * workers), but seeing it — browsers send `localhost` cookies to every port of
 * `localhost` — does not reveal the token, and guessing a weak token from it is slow.
 */
import { scryptSync } from 'node:crypto';
import { digest, SESSION_COOKIE_PREFIX, sameSecret } from '../guards/proxy-token.js';

/** Query parameter of the page that carries the token: `/?token=<token>`. */
const TOKEN_QUERY_PARAMETER = 'token';

// A fixed salt is enough: it only has to separate this use of the token from others.
const SCRYPT_SALT = 'aurora-swarm status page session v1';
const SESSION_VALUE_BYTES = 32;
// A Cookie header with more candidates than this is not a browser of ours; bounds the work.
const MAX_CANDIDATE_COOKIES = 16;
const HOST_PORT = /:([0-9]{1,5})$/;

/** The token check of the page's address and the cookie it hands out in exchange. */
export interface StatusPageSession {
  /**
   * Whether `candidate` (the `token` query parameter) is the proxy's token.
   * Constant time over SHA-256 digests, like the header check.
   */
  tokenMatches(candidate: string): boolean;
  /**
   * The `Set-Cookie` value for a browser that reached the proxy as `hostHeader`. The
   * name carries the port the browser used, so that proxies behind different local
   * ports of one laptop (each its own tunnel) keep separate cookies.
   */
  setCookieHeader(hostHeader: string | undefined): string;
  /** Whether `cookieHeader` (the request's `Cookie`) carries a valid session cookie. */
  cookieMatches(cookieHeader: string | undefined): boolean;
}

/** Make the session of a proxy started with `token`. The scrypt work runs on first use. */
export function createStatusPageSession(token: string): StatusPageSession {
  const tokenDigest = digest(token);
  let sessionValue: string | undefined;
  let sessionDigest: Buffer | undefined;
  const value = (): string => {
    sessionValue ??= scryptSync(token, SCRYPT_SALT, SESSION_VALUE_BYTES).toString('base64url');
    return sessionValue;
  };
  return {
    tokenMatches: (candidate) => sameSecret(candidate, tokenDigest),
    setCookieHeader: (hostHeader) => {
      const port = HOST_PORT.exec(hostHeader ?? '')?.[1] ?? '80';
      return `${SESSION_COOKIE_PREFIX}${port}=${value()}; Path=/; HttpOnly; SameSite=Strict`;
    },
    cookieMatches: (cookieHeader) => {
      if (cookieHeader === undefined || !cookieHeader.includes(SESSION_COOKIE_PREFIX)) {
        return false;
      }
      sessionDigest ??= digest(value());
      let candidates = 0;
      for (const pair of cookieHeader.split(';')) {
        const equals = pair.indexOf('=');
        if (equals < 0 || !pair.slice(0, equals).trim().startsWith(SESSION_COOKIE_PREFIX)) {
          continue;
        }
        if (++candidates > MAX_CANDIDATE_COOKIES) return false;
        if (sameSecret(pair.slice(equals + 1).trim(), sessionDigest)) return true;
      }
      return false;
    },
  };
}

/**
 * The candidates for the token in a page request target: the `token` query
 * parameter as decoded (`%2B` → `+`) and as written, since a token with `+` or `%`
 * pasted into an address unencoded would otherwise decode into something else.
 * Empty when there is no `token` parameter.
 */
export function tokenCandidates(requestTarget: string): string[] {
  const queryStart = requestTarget.indexOf('?');
  if (queryStart < 0) return [];
  const query = requestTarget.slice(queryStart + 1);
  const candidates: string[] = [];
  for (const pair of query.split('&')) {
    const equals = pair.indexOf('=');
    const name = equals < 0 ? pair : pair.slice(0, equals);
    if (name !== TOKEN_QUERY_PARAMETER) continue;
    const raw = equals < 0 ? '' : pair.slice(equals + 1);
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw.replaceAll('+', ' '));
    } catch {
      // A malformed escape: only the text as written can match.
    }
    candidates.push(decoded);
    if (raw !== decoded) candidates.push(raw);
    break;
  }
  return candidates;
}
