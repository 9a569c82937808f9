/**
 * `--unix PATH`: the proxy on a Unix-domain socket only its owner can use, for shared
 * login nodes (the laptop reaches it with `ssh -L 9090:PATH user@login`; no token to
 * hand out). Connecting to a Unix socket needs write permission on it, so the socket
 * is created with mode 0600 from the start: the process umask is set to 0177 around
 * the `bind` (synchronous inside `server.listen`, so no other code runs meanwhile),
 * which leaves no moment at which another user could connect. A chmod after the
 * listen would leave one. The directory must be writable by its owner only
 * (../../internal/private-directory.ts), else another user could swap the socket.
 *
 * A socket file left by a proxy that was killed is found by connecting to it: refused
 * means nobody listens, and it is removed; accepted means another process is serving
 * there, the same error as a TCP port in use. With `--workers` the primary process
 * binds (node:cluster), so it checks the path and holds the umask (proxy-cluster.ts).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { InvalidOptionError, ProxyStartError } from '../../errors.js';
import { ensurePrivateDirectory } from '../../internal/private-directory.js';
import { unixProxyUrl } from '../../internal/unix-proxy-url.js';
import type { ProxyLogger } from '../proxy-logger.js';
import { LISTEN_BACKLOG } from './listening.js';

/** Longest socket path Linux accepts, in bytes (`sun_path` is 108 bytes with its NUL). */
const MAX_SOCKET_PATH_BYTES = 107;
/** Umask that leaves a new socket `rw-------`. */
const OWNER_ONLY_UMASK = 0o177;
/** How long the connect test of an existing socket may take before it counts as in use. */
const PROBE_TIMEOUT_MS = 2_000;

function inUseError(path: string, cause?: unknown): ProxyStartError {
  return new ProxyStartError(
    `Address already in use: cannot listen on ${unixProxyUrl(path)}; another process is listening on that socket — stop it or choose a different path with --unix`,
    cause === undefined ? {} : { cause },
  );
}

/** Whether a process accepts connections on the socket at `path` (`stale`: nobody does). */
function probeSocket(path: string): Promise<'listening' | 'stale' | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (result: 'listening' | 'stale' | NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('listening'), PROBE_TIMEOUT_MS);
    socket.once('connect', () => done('listening'));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'stale' : error),
    );
  });
}

/**
 * Make `path` ready to be bound: short enough, in an owner-only directory (created
 * 0700 when missing), and free — a stale socket is removed (logged), a live one or a
 * file that is not a socket is an error.
 * @throws {InvalidOptionError} for a path that cannot work (length, directory, a regular file there).
 * @throws {ProxyStartError} when another process listens on it.
 */
export async function prepareUnixSocketPath(path: string, logger: ProxyLogger): Promise<void> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new InvalidOptionError(
      `--unix ${path}: ${bytes} bytes is too long for a Unix socket (at most ${MAX_SOCKET_PATH_BYTES}); choose a shorter path, e.g. ~/.aurora-swarm/proxy.sock`,
    );
  }
  const directoryProblem = ensurePrivateDirectory(dirname(path));
  if (directoryProblem !== undefined) {
    throw new InvalidOptionError(`--unix ${path}: ${directoryProblem}`);
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ProxyStartError(`cannot use --unix ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isSocket) {
    throw new InvalidOptionError(
      `--unix ${path}: a file that is not a socket is in the way; remove it or choose another path`,
    );
  }
  const probe = await probeSocket(path);
  if (probe === 'listening') throw inUseError(path);
  if (probe === 'stale') {
    unlinkSync(path);
    logger.info(`removed the stale socket ${path} (its proxy did not shut down cleanly)`);
    return;
  }
  // Gone meanwhile (ENOENT) is fine; anything else (EACCES) stops here.
  if (probe.code !== 'ENOENT') {
    throw new ProxyStartError(`cannot use --unix ${path}: ${probe.message}`, { cause: probe });
  }
}

/**
 * Set the process umask so that new sockets are owner-only; returns the function that
 * puts the previous umask back. Worker threads have no umask of their own.
 * @throws {ProxyStartError} in a worker thread.
 */
export function ownerOnlyUmask(): () => void {
  let previous: number;
  try {
    previous = process.umask(OWNER_ONLY_UMASK);
  } catch (error) {
    throw new ProxyStartError(
      '--unix needs process.umask, which worker threads cannot set: start the proxy in the main thread',
      { cause: error },
    );
  }
  return () => process.umask(previous);
}

/** The one-line error for a failed listen on the socket `path`. */
function unixListenError(error: NodeJS.ErrnoException, path: string): ProxyStartError {
  switch (error.code) {
    case 'EADDRINUSE':
      return inUseError(path, error);
    case 'EACCES':
      return new ProxyStartError(
        `Permission denied: cannot create the socket ${path} (check the permissions of its directory)`,
        { cause: error },
      );
    default:
      return new ProxyStartError(`cannot listen on ${unixProxyUrl(path)}: ${error.message}`, {
        cause: error,
      });
  }
}

/**
 * Listen on the Unix socket `path` with mode 0600. `bindsHere` is false in a
 * `--workers` worker: the primary binds (and holds the umask), the worker only asks.
 * @throws {ProxyStartError} from {@link unixListenError}.
 */
export async function listenUnixSocket(
  server: Server,
  path: string,
  bindsHere: boolean,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const restoreUmask = bindsHere ? ownerOnlyUmask() : undefined;
      try {
        server.listen({ path, backlog: LISTEN_BACKLOG }, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        restoreUmask?.();
      }
    });
  } catch (error) {
    if (error instanceof ProxyStartError) throw error;
    throw unixListenError(error as NodeJS.ErrnoException, path);
  }
  // Already 0600 by the umask; the explicit mode documents it and survives a
  // primary started by other code than proxy-cluster.ts.
  chmodSync(path, 0o600);
}
