/**
 * The proxy's shared secret (`--token`): the constant-time check of
 * `Proxy-Authorization: Bearer <token>`, the digest helpers the status page's session
 * reuses, and the name of the cookie that stands in for the token in a browser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Prefix of the status page's cookie names (`aurora_swarm_proxy_9090`). Cookies whose
 * name starts with it are never forwarded to agents, whether or not a token is set
 * (see `withoutSessionCookies`).
 */
export const SESSION_COOKIE_PREFIX = 'aurora_swarm_proxy_';

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/** SHA-256 of a secret, for comparisons that leak neither content nor length. */
export function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time check of `candidate` against a secret's {@link digest}. */
export function sameSecret(candidate: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(candidate), expectedDigest);
}

/**
 * Make a checker for `Proxy-Authorization: Bearer <token>` values. The comparison
 * runs in constant time over SHA-256 digests, so neither the token's content nor
 * its length leaks through response timing.
 */
export function createTokenCheck(token: string): (headerValue: string | undefined) => boolean {
  const expected = digest(token);
  return (headerValue) => {
    if (headerValue === undefined) return false;
    const match = BEARER.exec(headerValue);
    if (match === null) return false;
    return sameSecret(match[1] as string, expected);
  };
}
