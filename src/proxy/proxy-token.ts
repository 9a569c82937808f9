import { createHash, timingSafeEqual } from 'node:crypto';

const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
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
    return timingSafeEqual(digest(match[1] as string), expected);
  };
}
