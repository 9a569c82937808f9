/**
 * Binding the proxy's TCP port and saying so (its Unix socket is unix-socket.ts): the
 * address to listen on, the URL to reach it from this machine, the one-line errors for an address that cannot be bound, the
 * warning for a port open to the network without a token, and the `Proxy started`
 * line the CLI, the demo, the tests and the benchmarks wait for (written by
 * {@link proxyStartedMessage}, read back by {@link parseProxyStartedLine} only).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyStartError } from '../../errors.js';
import { unixProxyUrl } from '../../internal/unix-proxy-url.js';
import { PROXY_TOKEN_ENV_VAR } from '../proxy-options.js';

/** Whether `host` only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host.startsWith('127.') ||
    host === '::1' ||
    host === '[::1]' ||
    host.startsWith('::ffff:127.')
  );
}

/** The host to put in a URL that reaches a server bound to `host` from this machine. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  if (host.includes(':') && !host.startsWith('[')) return `[${host}]`;
  return host;
}

/** The one-line error for a failed `listen` on `host:port`, with the fix in it. */
export function listenError(
  error: NodeJS.ErrnoException,
  host: string,
  port: number,
): ProxyStartError {
  const where = `${host}:${port}`;
  let message: string;
  switch (error.code) {
    case 'EADDRINUSE':
      message = `Address already in use: cannot listen on ${where}; another process is using port ${port} — stop it or choose a different port with --port`;
      break;
    case 'EACCES':
      message = `Permission denied: cannot listen on ${where}; choose a port above 1023 with --port`;
      break;
    case 'EADDRNOTAVAIL':
      message = `Cannot assign requested address: ${host} is not an address of this machine (check --host)`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      message = `cannot resolve --host ${JSON.stringify(host)}`;
      break;
    default:
      message = `cannot listen on ${where}: ${error.message}`;
  }
  return new ProxyStartError(message, { cause: error });
}

/**
 * Connections the kernel may hold for the proxy before it accepts them. Node's default
 * (511) is less than one pool opening its 512 connections at once; beyond it the kernel
 * drops the SYNs and the clients retry after 1, 3, 7, 15 s (measured: 8,000 streams
 * opened at once had a first-byte p99 of 18 s through the proxy, 3.7 s through nginx
 * configured with 4096). Linux lowers it to `net.core.somaxconn` (4096 by default).
 */
export const LISTEN_BACKLOG = 4096;

/**
 * Bind `server` to `host:port` and resolve with the real port (the one picked when
 * `port` is 0).
 * @throws {ProxyStartError} from {@link listenError} when the address cannot be bound.
 */
export async function listen(server: Server, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw listenError(error as NodeJS.ErrnoException, host, port);
  }
  return (server.address() as AddressInfo).port;
}

/**
 * The warning logged when the proxy listens beyond loopback without a token, or
 * `undefined` when there is nothing to warn about.
 */
export function openPortWarning(
  host: string,
  port: number,
  agentCount: number,
  hasToken: boolean,
): string | undefined {
  if (hasToken || isLoopback(host)) return undefined;
  return (
    `No proxy token set and listening on ${host}: anyone who can reach port ${port} can use every agent (${agentCount}) — any host on this machine's networks, and every user logged in to it. ` +
    `To close it, require a token with --token or ${PROXY_TOKEN_ENV_VAR} (clients send "Proxy-Authorization: Bearer <token>"), ` +
    `or bind to loopback with --host 127.0.0.1 (SSH tunnels still work; other users of this machine can still connect), ` +
    `or listen on an owner-only socket with --unix ~/.aurora-swarm/proxy.sock (see docs/security.md).`
  );
}

/** What the `Proxy started` line says. */
export interface ProxyStartedLine {
  /** The TCP address bound, as given (`0.0.0.0` by default); `undefined` on a Unix socket only. */
  readonly host: string | undefined;
  /** The real TCP port; `undefined` on a Unix socket only. */
  readonly port: number | undefined;
  /** The Unix socket (`--unix`), or `undefined`. */
  readonly socketPath: string | undefined;
  /** Agents in the hostfile. */
  readonly agents: number;
  /** Worker processes (`--workers`), or `undefined` for a single process. */
  readonly workers: number | undefined;
}

/**
 * The message logged once the proxy listens, as the usage guide shows it:
 * `Proxy started — listening on 0.0.0.0:9090 with 4 agent(s)`. A Unix socket is named
 * as `unix:PATH` (after the TCP address and ` and ` when both are open), and with
 * `--workers` ` (4 worker processes)` comes after.
 */
export function proxyStartedMessage(line: ProxyStartedLine): string {
  const listeners: string[] = [];
  if (line.host !== undefined) listeners.push(`${line.host}:${line.port}`);
  if (line.socketPath !== undefined) listeners.push(unixProxyUrl(line.socketPath));
  const suffix = line.workers === undefined ? '' : ` (${line.workers} worker processes)`;
  return `Proxy started — listening on ${listeners.join(' and ')} with ${line.agents} agent(s)${suffix}`;
}

// Greedy, anchored at the end: a socket path may contain spaces, even " with ".
const STARTED_LINE =
  /Proxy started — listening on (.+) with (\d+) agent\(s\)(?: \((\d+) worker processes\))?$/;
const TCP_LISTENER = /^(\S+):(\d+)(?: and unix:(.+))?$/;

/**
 * Read a log line (or the bare message) written with {@link proxyStartedMessage};
 * `undefined` for any other line.
 * @example parseProxyStartedLine('... aurora_swarm.proxy: Proxy started — listening on 127.0.0.1:9090 with 4 agent(s)')
 * // { host: '127.0.0.1', port: 9090, socketPath: undefined, agents: 4, workers: undefined }
 */
export function parseProxyStartedLine(line: string): ProxyStartedLine | undefined {
  const match = STARTED_LINE.exec(line.trimEnd());
  if (match === null) return undefined;
  const listeners = match[1] as string;
  const agents = Number(match[2]);
  const workers = match[3] === undefined ? undefined : Number(match[3]);
  if (listeners.startsWith('unix:')) {
    return { host: undefined, port: undefined, socketPath: listeners.slice(5), agents, workers };
  }
  const tcp = TCP_LISTENER.exec(listeners);
  if (tcp === null) return undefined;
  return {
    host: tcp[1] as string,
    port: Number(tcp[2]),
    socketPath: tcp[3],
    agents,
    workers,
  };
}
