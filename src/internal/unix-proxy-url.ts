/**
 * Proxy addresses that name a Unix-domain socket instead of a TCP port:
 * `unix:/home/me/.aurora-swarm/proxy.sock` (also `unix:///abs/path`, Docker's
 * spelling, and `unix:relative/path`), as `aurora-swarm-proxy --unix PATH` listens
 * on. Requests then go over the socket with `Host: localhost`.
 */
import { resolve } from 'node:path';

const UNIX_PREFIX = 'unix:';

/** Whether `text` is a `unix:` proxy address (well formed or not). */
export function isUnixProxyUrl(text: string): boolean {
  return text.startsWith(UNIX_PREFIX);
}

/**
 * The absolute socket path of a `unix:` address, or `undefined` when the path is
 * empty. Relative paths are resolved against the working directory.
 */
export function unixSocketPathOf(text: string): string | undefined {
  let path = text.slice(UNIX_PREFIX.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path.trim() === '') return undefined;
  return resolve(path);
}

/** The `unix:` address of a socket path, as logs and `RunningProxy.url` show it. */
export function unixProxyUrl(socketPath: string): string {
  return `${UNIX_PREFIX}${socketPath}`;
}
