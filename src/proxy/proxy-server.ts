/**
 * The proxy's lifecycle: read the hostfile, listen, answer the local routes, hand
 * `/agent/...` requests to the forwarder, and shut down gracefully.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { HostfileError, SwarmError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { parseHostfile } from '../hostfile/read-hostfile.js';
import { AgentStats } from './agent-stats.js';
import { ConnectionLimiter } from './connection-limiter.js';
import { type ForwardContext, type ForwardTarget, forwardRequest } from './forward-request.js';
import { sendJson, sendJsonError } from './gateway-error.js';
import { ProxyLogger } from './proxy-logger.js';
import {
  PROXY_TOKEN_ENV_VAR,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './proxy-options.js';
import { createTokenCheck } from './proxy-token.js';
import { routeRequest } from './route-request.js';
import { acceptsSessionCookie, answerStatusPage } from './status-page-route.js';
import { createStatusPageSession, type StatusPageSession } from './status-page-session.js';

/** A proxy started by {@link startProxy}. */
export interface RunningProxy {
  /** Base URL to reach the proxy from this machine, e.g. `http://127.0.0.1:9090`. */
  readonly url: string;
  /** The address it is bound to, as given (`0.0.0.0` by default). */
  readonly host: string;
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** The agents, index = the `{index}` of `/agent/{index}/...`. */
  readonly endpoints: readonly AgentEndpoint[];
  /**
   * Stop accepting connections, let in-flight requests finish for up to
   * `graceMs` (then cut them), close upstream connections and log `Proxy shut down`.
   * Idempotent: later calls return the same promise; a later `close(0)` cuts the
   * grace period short.
   * @param graceMs @default the `shutdownGraceSeconds` option, in milliseconds
   */
  close(graceMs?: number): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// Long generations must never be cut by the server's own timers: the upstream
// timeout is the proxy's business (forward-request.ts).
const SERVER_KEEP_ALIVE_TIMEOUT_MS = 65_000;
const SERVER_HEADERS_TIMEOUT_MS = 60_000;
const SERVER_MAX_HEADER_SIZE = 64 * 1024;
// Upstream: idle keep-alive sockets are reused for this long unless the agent says less.
const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 4_000;
const UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS = 600_000;
const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host.startsWith('127.') ||
    host === '::1' ||
    host === '[::1]' ||
    host.startsWith('::ffff:127.')
  );
}

function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  if (host.includes(':') && !host.startsWith('[')) return `[${host}]`;
  return host;
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): SwarmError {
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
  return new SwarmError('ERR_PROXY_START', message, { cause: error });
}

function loadEndpoints(resolved: ResolvedProxyOptions): readonly AgentEndpoint[] {
  if (resolved.endpoints !== undefined) {
    if (resolved.endpoints.length === 0) {
      throw new HostfileError(
        'ERR_HOSTFILE_EMPTY',
        'No endpoints found: the endpoint list is empty',
        {
          path: '<endpoints>',
        },
      );
    }
    return resolved.endpoints;
  }
  const path = resolved.hostfile as string;
  const endpoints = parseHostfile(path);
  if (endpoints.length === 0) {
    throw new HostfileError('ERR_HOSTFILE_EMPTY', `No endpoints found in hostfile ${path}`, {
      path,
    });
  }
  return endpoints;
}

/**
 * Start the proxy: one port, `/agent/{index}/{path}` forwarded to the agent on
 * hostfile line `index`, plus `/` (the status page), `/health`, `/status` and `/hosts`.
 *
 * @param env Environment for the `AURORA_SWARM_*` fallbacks. @default process.env
 *
 * @throws {InvalidOptionError} for a bad option value.
 * @throws {HostfileError} when the hostfile is missing, malformed (`path:line`) or empty.
 * @throws {SwarmError} `ERR_PROXY_START` when the address cannot be bound (e.g. `Address already in use`).
 * @example
 * await using proxy = await startProxy({ hostfile: 'hostfile.txt', host: '127.0.0.1', port: 0 });
 * await fetch(`${proxy.url}/agent/0/v1/models`);
 */
export async function startProxy(
  options: ProxyOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningProxy> {
  const resolved = resolveProxyOptions(options, env);
  const logger = new ProxyLogger(resolved.logLevel, resolved.logSink);
  const endpoints = loadEndpoints(resolved);
  const startedAt = performance.now();

  const targets: ForwardTarget[] = endpoints.map((endpoint, index) => ({
    index,
    origin: endpoint.url,
    authority: endpoint.url.slice('http://'.length),
    stats: new AgentStats(),
  }));
  const hostsBody = {
    hosts: endpoints.map(({ host, port, tags }) => ({ host, port, tags })),
  };

  const dispatcher = new Agent({
    pipelining: 1,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeout: UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS,
    // The proxy runs its own timers with the semantics of --timeout / X-Timeout.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: UPSTREAM_CONNECT_TIMEOUT_MS,
  });
  const limiter = new ConnectionLimiter(resolved.connectorLimit);

  let openExchanges = 0;
  let closing = false;
  let onIdle: (() => void) | undefined;
  const context: ForwardContext = {
    dispatcher,
    limiter,
    logger,
    defaultTimeoutMs: resolved.timeoutMs,
    maxTimeoutMs: resolved.maxTimeoutMs,
    onExchangeOpened: () => {
      openExchanges++;
    },
    onExchangeClosed: () => {
      openExchanges--;
      if (openExchanges === 0 && onIdle !== undefined) onIdle();
    },
  };

  const tokenCheck = resolved.token === undefined ? undefined : createTokenCheck(resolved.token);
  const pageSession =
    resolved.token === undefined ? undefined : createStatusPageSession(resolved.token);

  const statusBody = () => ({
    agents: endpoints.length,
    uptime_seconds: Math.round(performance.now() - startedAt) / 1000,
    endpoints: endpoints.map(({ host, port, tags }, index) => ({
      index,
      host,
      port,
      tags,
      ...(targets[index] as ForwardTarget).stats.toJSON(),
    })),
    in_flight: limiter.active,
    queued: limiter.queued,
    connector_limit: limiter.limit,
    timeout_seconds: resolved.timeoutMs / 1000,
    // With --workers, each worker answers for itself: its own counters and limit.
    ...(resolved.clusterWorker === undefined
      ? {}
      : {
          worker: {
            index: resolved.clusterWorker.index,
            count: resolved.clusterWorker.count,
            pid: process.pid,
            counters: 'this worker only',
          },
        }),
  });

  const answerLocal = (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    body: () => unknown,
  ): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJsonError(response, 405, `method ${request.method} not allowed on ${path} (use GET)`, [
        'allow',
        'GET, HEAD',
      ]);
      return;
    }
    sendJson(response, 200, body());
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (closing) {
      response.shouldKeepAlive = false;
      sendJsonError(response, 503, 'the proxy is shutting down');
      return;
    }
    const route = routeRequest(request.url ?? '/', targets.length);
    let session: StatusPageSession | undefined;
    if (
      tokenCheck !== undefined &&
      route.kind !== 'health' &&
      !tokenCheck(request.headers['proxy-authorization'])
    ) {
      // Browsers cannot send Proxy-Authorization: the page takes `?token=` instead, and
      // the cookie it hands out opens the proxy's own read-only routes.
      session = pageSession;
      if (route.kind !== 'page' && !acceptsSessionCookie(route, session, request)) {
        sendJsonError(
          response,
          401,
          'missing or wrong proxy token: send the header "Proxy-Authorization: Bearer <token>"',
          ['www-authenticate', 'Bearer realm="aurora-swarm-proxy"'],
        );
        return;
      }
    }
    switch (route.kind) {
      case 'page':
        answerStatusPage(request, response, session, logger);
        return;
      case 'agent':
        forwardRequest(
          context,
          targets[route.index] as ForwardTarget,
          request,
          response,
          route.path,
        );
        return;
      case 'health':
        answerLocal(request, response, '/health', () => ({ status: 'ok' }));
        return;
      case 'status':
        answerLocal(request, response, '/status', statusBody);
        return;
      case 'hosts':
        answerLocal(request, response, '/hosts', () => hostsBody);
        return;
      case 'bad-index':
        sendJsonError(response, 400, route.message);
        return;
      default:
        sendJsonError(
          response,
          404,
          'not found: the routes are / (status page), /health, /status, /hosts and /agent/{index}/{path}',
        );
    }
  };

  const server: Server = createServer(
    {
      noDelay: true,
      requestTimeout: 0,
      headersTimeout: SERVER_HEADERS_TIMEOUT_MS,
      keepAliveTimeout: SERVER_KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: SERVER_MAX_HEADER_SIZE,
    },
    onRequest,
  );
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS;
  server.timeout = 0;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: resolved.host, port: resolved.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await dispatcher.destroy();
    throw listenError(error as NodeJS.ErrnoException, resolved.host, resolved.port);
  }
  const port = (server.address() as AddressInfo).port;
  const host = resolved.host;

  logger.info(`Proxy started — listening on ${host}:${port} with ${endpoints.length} agent(s)`);
  if (tokenCheck === undefined && !isLoopback(host)) {
    logger.warning(
      `No proxy token set and listening on ${host}: anyone who can reach port ${port} can use every agent. ` +
        `To close it, bind to loopback with --host 127.0.0.1 (SSH tunnels still work) or require a token with --token or ${PROXY_TOKEN_ENV_VAR}.`,
    );
  }

  let closePromise: Promise<void> | undefined;
  let endGrace: (() => void) | undefined;
  const close = (graceMs: number = resolved.shutdownGraceMs): Promise<void> => {
    if (closePromise !== undefined) {
      if (graceMs <= 0) endGrace?.();
      return closePromise;
    }
    closePromise = (async () => {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      if (openExchanges > 0) {
        await new Promise<void>((resolve) => {
          const graceTimer = setTimeout(resolve, graceMs);
          endGrace = onIdle = () => {
            clearTimeout(graceTimer);
            resolve();
          };
        });
        endGrace = onIdle = undefined;
        if (openExchanges > 0) {
          logger.warning(
            `cutting ${openExchanges} request(s) still running after the grace period`,
          );
        }
      }
      // Cuts what is still running (their upstream requests are aborted with them)
      // and the idle keep-alive connections.
      server.closeAllConnections();
      await serverClosed;
      await dispatcher.destroy();
      logger.info('Proxy shut down');
    })();
    return closePromise;
  };

  return {
    url: `http://${connectHost(host)}:${port}`,
    host,
    port,
    endpoints,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
