/**
 * The request-head fields the guards read, taken from `rawHeaders` in one pass (names
 * compared by length first, no allocation but the result): the limits need the
 * declared `Content-Length`, the cross-site checks `Host`, `Origin`, `Sec-Fetch-*` and
 * whether the request is a CORS preflight. Building `request.headers` (Node does that
 * lazily) is left to the routes that need it.
 */

/** What one pass over a request's raw headers found. */
export interface RequestHeadFields {
  /** The first `Host` value, and how many `Host` lines there were. */
  readonly host: string | undefined;
  readonly hosts: number;
  /** The first `Origin` value, and how many `Origin` lines there were. */
  readonly origin: string | undefined;
  readonly origins: number;
  /** The last `Sec-Fetch-Site` and `Sec-Fetch-Mode` values. */
  readonly fetchSite: string | undefined;
  readonly fetchMode: string | undefined;
  /** Whether an `Access-Control-Request-Method` line is there (a CORS preflight). */
  readonly preflight: boolean;
  /** The first `Content-Length` value (Node's parser has checked it is one decimal integer). */
  readonly contentLength: string | undefined;
}

/**
 * Whether `name` is `lower` in any case (`lower`: lower-case letters and `-` only). For
 * header names and tokens on the hot path: no lower-cased copy is made.
 */
export function isNamed(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let index = 0; index < lower.length; index++) {
    if ((name.charCodeAt(index) | 0x20) !== lower.charCodeAt(index)) return false;
  }
  return true;
}

/** Read the guards' fields from `rawHeaders` (names and values alternating, as received). */
export function scanRequestHead(rawHeaders: readonly string[]): RequestHeadFields {
  let host: string | undefined;
  let origin: string | undefined;
  let fetchSite: string | undefined;
  let fetchMode: string | undefined;
  let contentLength: string | undefined;
  let hosts = 0;
  let origins = 0;
  let preflight = false;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index] as string;
    switch (name.length) {
      case 4:
        if (isNamed(name, 'host')) {
          host ??= rawHeaders[index + 1];
          hosts++;
        }
        break;
      case 6:
        if (isNamed(name, 'origin')) {
          origin ??= rawHeaders[index + 1];
          origins++;
        }
        break;
      case 14:
        if (isNamed(name, 'content-length')) contentLength ??= rawHeaders[index + 1];
        else if (isNamed(name, 'sec-fetch-site')) fetchSite = rawHeaders[index + 1];
        else if (isNamed(name, 'sec-fetch-mode')) fetchMode = rawHeaders[index + 1];
        break;
      case 29:
        if (isNamed(name, 'access-control-request-method')) preflight = true;
        break;
    }
  }
  return { host, hosts, origin, origins, fetchSite, fetchMode, preflight, contentLength };
}
