/**
 * The proxy's lifecycle: read the hostfile, listen, answer the local routes, hand
 * `/agent/...` and `/v1/...` requests to the forwarder, keep the agents' health,
 * reload the hostfile, and shut down gracefully.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { HostfileError, ProxyStartError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { AgentTargets } from './agents/agent-targets.js';
import { ConnectionLimiter } from './agents/connection-limiter.js';
import { type ForwardContext, forwardRequest } from './forward/forward-request.js';
import { forwardPooledRequest } from './forward/pooled-request.js';
import { createTokenCheck } from './guards/proxy-token.js';
import {
  answerAndClose,
  installServerGuards,
  limitedServerOptions,
  refuseOverLimit,
} from './guards/server-guards.js';
import { HealthMonitor } from './health/health-monitor.js';
import { HostfileReloader, readHostfile } from './hostfile-reloader.js';
import { sendJson, sendJsonError, sendText } from './json-response.js';
import { ProxyLogger } from './proxy-logger.js';
import { ProxyMetrics } from './proxy-metrics.js';
import {
  PROXY_TOKEN_ENV_VAR,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './proxy-options.js';
import { routeRequest } from './route-request.js';
import { NOT_FOUND_MESSAGE } from './route-table.js';
import { buildStatus } from './status-page/proxy-status.js';
import { acceptsSessionCookie, answerStatusPage } from './status-page/status-page-route.js';
import {
  createStatusPageSession,
  type StatusPageSession,
} from './status-page/status-page-session.js';

/** A proxy started by {@link startProxy}. */
export interface RunningProxy {
  /** Base URL to reach the proxy from this machine, e.g. `http://127.0.0.1:9090`. */
  readonly url: string;
  /** The address it is bound to, as given (`0.0.0.0` by default). */
  readonly host: string;
  /** The port it listens on (the real one when 0 was asked for). */
  readonly port: number;
  /** The agents now (a reload replaces the list), index = the `{index}` of `/agent/{index}/...`. */
  readonly endpoints: readonly AgentEndpoint[];
  /**
   * Switch to a new agent list: `endpoints` when given, else the hostfile read
   * again. Indices follow the new list; requests in flight finish with the agent
   * they started with; agents whose `host:port` stays keep their health and
   * counters. Logs `Reloaded hostfile — N agent(s) ...` and resolves with the new
   * list. An empty list or a malformed hostfile is rejected (logged, and thrown)
   * and the old list kept.
   * @throws {HostfileError} malformed (`path:line`), unreadable or empty hostfile.
   * @throws {InvalidOptionError} without `endpoints` when the proxy was started without a hostfile.
   */
  reload(endpoints?: readonly AgentEndpoint[]): Promise<readonly AgentEndpoint[]>;
  /**
   * Probe every agent's `/health` now and resolve when the round is over (a round
   * already running is awaited first). Nothing happens when health checking is off.
   */
  checkHealth(): Promise<void>;
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

function listenError(error: NodeJS.ErrnoException, host: string, port: number): ProxyStartError {
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
  return readHostfile(resolved.hostfile as string);
}

/**
 * Start the proxy: one port, `/agent/{index}/{path}` forwarded to the agent on
 * hostfile line `index`, `/v1/...` to a healthy agent of the proxy's choosing,
 * plus `/` (the status page), `/health`, `/status`, `/hosts` and `/metrics`. Agents
 * are probed for health in the background, and the hostfile is reloaded when it
 * changes.
 *
 * @param env Environment for the `AURORA_SWARM_*` fallbacks. @default process.env
 *
 * @throws {InvalidOptionError} for a bad option value.
 * @throws {HostfileError} when the hostfile is missing, malformed (`path:line`) or empty.
 * @throws {ProxyStartError} when the address cannot be bound (e.g. `Address already in use`).
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
  let endpoints = loadEndpoints(resolved);
  const startedAt = performance.now();
  const uptimeSeconds = () => Math.round(performance.now() - startedAt) / 1000;
  const limiter = new ConnectionLimiter(resolved.connectorLimit);

  // Reads `targets` only when scraped, after it is assigned.
  const metrics: ProxyMetrics = new ProxyMetrics(
    {
      targets: () => targets.all,
      inFlight: () => limiter.active,
      queued: () => limiter.queued,
      connectorLimit: limiter.limit,
      uptimeSeconds,
    },
    resolved.metricsAgentLabel,
  );
  const targets = new AgentTargets(endpoints, (index) => metrics.statusCountsFor(index));
  const hostsBodyOf = (list: readonly AgentEndpoint[]) => ({
    hosts: list.map(({ host, port, tags }) => ({ host, port, tags })),
  });
  let hostsBody = hostsBodyOf(endpoints);

  const health = new HealthMonitor(
    {
      intervalMs: resolved.healthIntervalMs,
      timeoutMs: resolved.healthTimeoutMs,
      unhealthyThreshold: resolved.unhealthyThreshold,
      healthyThreshold: resolved.healthyThreshold,
      concurrency: resolved.healthConcurrency,
    },
    () => targets.all,
    logger,
    {
      onTransition: (_target, healthy) => {
        if (healthy) metrics.becameHealthy++;
        else metrics.becameUnhealthy++;
        targets.healthChanged();
      },
      onProbe: (success) => {
        if (success) metrics.probeSuccesses++;
        else metrics.probeFailures++;
      },
    },
  );

  const dispatcher = new Agent({
    pipelining: 1,
    keepAliveTimeout: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeout: UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS,
    // The proxy runs its own timers with the semantics of --timeout / X-Timeout.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: UPSTREAM_CONNECT_TIMEOUT_MS,
  });

  let openExchanges = 0;
  let closing = false;
  let onIdle: (() => void) | undefined;
  const context: ForwardContext = {
    dispatcher,
    limiter,
    logger,
    metrics,
    health,
    defaultTimeoutMs: resolved.timeoutMs,
    maxTimeoutMs: resolved.maxTimeoutMs,
    maxBodySizeBytes: resolved.maxBodySizeBytes,
    bodyIdleTimeoutMs: resolved.bodyIdleTimeoutMs,
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

  const statusSource = {
    targets,
    limiter,
    metrics,
    uptimeSeconds,
    timeoutMs: resolved.timeoutMs,
    healthChecks: health.enabled,
  };
  // With --workers, each worker answers for itself: its own counters and limit.
  const workerBody =
    resolved.clusterWorker === undefined
      ? undefined
      : {
          worker: {
            index: resolved.clusterWorker.index,
            count: resolved.clusterWorker.count,
            pid: process.pid,
            counters: 'this worker only',
          },
        };
  const statusBody = () =>
    workerBody === undefined
      ? buildStatus(statusSource)
      : { ...buildStatus(statusSource), ...workerBody };

  const allowGet = (request: IncomingMessage, response: ServerResponse, path: string): boolean => {
    if (request.method === 'GET' || request.method === 'HEAD') return true;
    sendJsonError(response, 405, `method ${request.method} not allowed on ${path} (use GET)`, [
      'allow',
      'GET, HEAD',
    ]);
    return false;
  };
  const answerLocal = (
    request: IncomingMessage,
    response: ServerResponse,
    path: string,
    body: () => unknown,
  ): void => {
    if (allowGet(request, response, path)) sendJson(response, 200, body());
  };
  const answerMetrics = (request: IncomingMessage, response: ServerResponse): void => {
    if (!allowGet(request, response, '/metrics')) return;
    metrics.render().then(
      (text) => sendText(response, 200, metrics.contentType, text),
      (error: unknown) => {
        logger.error(`cannot render /metrics: ${String(error)}`);
        sendJsonError(response, 500, 'cannot render the metrics');
      },
    );
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (closing) {
      response.shouldKeepAlive = false;
      sendJsonError(response, 503, 'the proxy is shutting down');
      return;
    }
    if (refuseOverLimit(request, response, resolved)) return;
    const route = routeRequest(request.url ?? '/', targets.all.length);
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
        // Without the token nothing more of the connection is read (no slow body to drain).
        answerAndClose(
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
        forwardRequest(context, targets.all[route.index]!, request, response, route.path);
        return;
      case 'pooled':
        forwardPooledRequest(context, targets, request, response, route.path);
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
      case 'metrics':
        answerMetrics(request, response);
        return;
      case 'bad-index':
        sendJsonError(response, 400, route.message);
        return;
      default:
        sendJsonError(response, 404, NOT_FOUND_MESSAGE);
    }
  };

  const server: Server = createServer(limitedServerOptions(resolved), onRequest);
  installServerGuards(server, resolved, logger);

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
    await health.close();
    throw listenError(error as NodeJS.ErrnoException, resolved.host, resolved.port);
  }
  const port = (server.address() as AddressInfo).port;
  const host = resolved.host;

  logger.info(`Proxy started — listening on ${host}:${port} with ${endpoints.length} agent(s)`);
  if (tokenCheck === undefined && !isLoopback(host)) {
    logger.warning(
      `No proxy token set and listening on ${host}: anyone who can reach port ${port} can use every agent (${endpoints.length}) — any host on this machine's networks, and every user logged in to it. ` +
        `To close it, require a token with --token or ${PROXY_TOKEN_ENV_VAR} (clients send "Proxy-Authorization: Bearer <token>"), ` +
        `or bind to loopback with --host 127.0.0.1 (SSH tunnels still work; other users of this machine can still connect).`,
    );
  }
  health.start();

  const reloader = new HostfileReloader({
    hostfile: resolved.hostfile,
    watch: resolved.watchHostfile,
    logger,
    metrics,
    current: () => endpoints,
    apply: (next) => {
      const changes = targets.replace(next);
      endpoints = next;
      hostsBody = hostsBodyOf(next);
      // New agents are unknown: probe them now rather than at the next round.
      if (changes.added > 0) void health.checkNow();
      return changes;
    },
  });

  let closePromise: Promise<void> | undefined;
  let endGrace: (() => void) | undefined;
  const close = (graceMs: number = resolved.shutdownGraceMs): Promise<void> => {
    if (closePromise !== undefined) {
      if (graceMs <= 0) endGrace?.();
      return closePromise;
    }
    closePromise = (async () => {
      closing = true;
      reloader.close();
      const healthClosed = health.close();
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
      await healthClosed;
      logger.info('Proxy shut down');
    })();
    return closePromise;
  };

  return {
    url: `http://${connectHost(host)}:${port}`,
    host,
    port,
    get endpoints() {
      return endpoints;
    },
    reload: (next) => reloader.reload(next),
    checkHealth: () => health.checkNow(),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
