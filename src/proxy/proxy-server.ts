/**
 * The proxy's lifecycle: read the hostfile, listen (TCP, a Unix socket, or both), pass
 * each request through the guards (limits, Host and Origin) and the token gate to its
 * route — the proxy's own routes, or the forwarder
 * for `/agent/...` and `/v1/...` — keep the agents' health, reload the hostfile, and
 * shut down gracefully ({@link ProxyServer.close}) or at once
 * ({@link ProxyServer.destroy}). The pieces are in server/ (listening, the exchange
 * tracker, the local routes, the request gate) and the folders below it; this file
 * only wires them together and owns the sockets. A little over 300 lines because the
 * constructor is that wiring, read best in one place.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { unixProxyUrl } from '../internal/unix-proxy-url.js';
import { connectionSettings, UpstreamConnections } from './agents/agent-connections.js';
import { AgentTargets } from './agents/agent-targets.js';
import { ConnectionLimiter } from './agents/connection-limiter.js';
import {
  type ForwardContext,
  forwardRequest,
  onClientConnectionEnd,
} from './forward/forward-request.js';
import { forwardPooledRequest } from './forward/pooled-request.js';
import { CrossSiteGuard } from './guards/cross-site-guard.js';
import { HostAllowlist } from './guards/host-allowlist.js';
import { scanRequestHead } from './guards/request-head.js';
import {
  installServerGuards,
  limitedServerOptions,
  refuseOverLimit,
} from './guards/server-guards.js';
import { countedHealthEvents, HealthMonitor } from './health/health-monitor.js';
import { HostfileReloader, loadAgentList } from './hostfile-reloader.js';
import { sendJsonError } from './json-response.js';
import { ProxyLogger } from './proxy-logger.js';
import { ProxyMetrics } from './proxy-metrics.js';
import {
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './proxy-options.js';
import { routeRequest } from './route-request.js';
import { NOT_FOUND_MESSAGE } from './route-table.js';
import type { RunningProxy } from './running-proxy.js';
import { ExchangeTracker } from './server/exchange-tracker.js';
import { IdleHeapRelease } from './server/idle-heap-release.js';
import { connectHost, listen, openPortWarning, proxyStartedMessage } from './server/listening.js';
import { LocalRoutes } from './server/local-routes.js';
import {
  answerDenied,
  createProxySecrets,
  gateRequest,
  type ProxySecrets,
} from './server/request-gate.js';
import { listenUnixSocket, prepareUnixSocketPath } from './server/unix-socket.js';
import type { StatusSource } from './status-page/proxy-status.js';
import { answerStatusPage } from './status-page/status-page-route.js';
import { StatusRoute } from './status-page/status-route.js';

function closeIfListening(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}

function hostsBodyOf(list: readonly AgentEndpoint[]) {
  return { hosts: list.map(({ host, port, tags }) => ({ host, port, tags })) };
}

/**
 * A running proxy: the HTTP server, the upstream connections, the health monitor
 * and the hostfile reloader. Made by {@link startProxy} (or {@link ProxyServer.start}).
 */
export class ProxyServer implements RunningProxy {
  readonly #options: ResolvedProxyOptions;
  readonly #logger: ProxyLogger;
  readonly #startedAt = performance.now();
  readonly #targets: AgentTargets;
  readonly #health: HealthMonitor;
  readonly #upstream: UpstreamConnections;
  readonly #exchanges = new ExchangeTracker();
  readonly #heapRelease: IdleHeapRelease | undefined;
  readonly #forward: ForwardContext;
  readonly #secrets: ProxySecrets | undefined;
  readonly #localRoutes: LocalRoutes;
  readonly #crossSite: CrossSiteGuard;
  /** The TCP listener, unless only a Unix socket was asked for. */
  readonly #tcpServer: Server | undefined;
  /** The `--unix` listener. */
  readonly #unixServer: Server | undefined;
  readonly #servers: readonly Server[];
  readonly #reloader: HostfileReloader;
  #endpoints: readonly AgentEndpoint[];
  #hostsBody: ReturnType<typeof hostsBodyOf>;
  #port = 0;
  #closing: Promise<void> | undefined;

  /**
   * Resolve the options, read the agents, listen, and start health checks and the
   * hostfile watch. See {@link startProxy}.
   */
  static async start(
    options: ProxyOptions = {},
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): Promise<ProxyServer> {
    const resolved = resolveProxyOptions(options, env);
    const endpoints = loadAgentList(resolved.endpoints, resolved.hostfile);
    const proxy = new ProxyServer(resolved, endpoints);
    await proxy.#listen();
    return proxy;
  }

  private constructor(resolved: ResolvedProxyOptions, endpoints: readonly AgentEndpoint[]) {
    this.#options = resolved;
    this.#logger = new ProxyLogger(resolved.logLevel, resolved.logSink);
    this.#endpoints = endpoints;
    this.#hostsBody = hostsBodyOf(endpoints);
    const limiter = new ConnectionLimiter(resolved.connectorLimit);
    const uptimeSeconds = () => Math.round(performance.now() - this.#startedAt) / 1000;
    const metrics = new ProxyMetrics(
      {
        targets: () => this.#targets.all,
        inFlight: () => limiter.active,
        queued: () => limiter.queued,
        connectorLimit: limiter.limit,
        uptimeSeconds,
      },
      resolved.metricsAgentLabel,
    );
    this.#upstream = new UpstreamConnections(connectionSettings(resolved.maxIdlePerAgent));
    this.#targets = new AgentTargets(
      endpoints,
      (index) => metrics.statusCountsFor(index),
      this.#upstream,
    );
    this.#health = new HealthMonitor(
      {
        intervalMs: resolved.healthIntervalMs,
        timeoutMs: resolved.healthTimeoutMs,
        unhealthyThreshold: resolved.unhealthyThreshold,
        healthyThreshold: resolved.healthyThreshold,
        concurrency: resolved.healthConcurrency,
      },
      () => this.#targets.all,
      this.#logger,
      countedHealthEvents(metrics, () => this.#targets.healthChanged()),
    );
    this.#forward = {
      limiter,
      logger: this.#logger,
      metrics,
      health: this.#health,
      defaultTimeoutMs: resolved.timeoutMs,
      maxTimeoutMs: resolved.maxTimeoutMs,
      maxBodySizeBytes: resolved.maxBodySizeBytes,
      bodyIdleTimeoutMs: resolved.bodyIdleTimeoutMs,
      onExchangeOpened: this.#exchanges.opened,
      onExchangeClosed: this.#exchanges.closed,
    };
    this.#heapRelease = resolved.releaseIdleHeap
      ? new IdleHeapRelease({
          quietForMs: () => this.#exchanges.quietForMs(),
          logger: this.#logger,
        })
      : undefined;
    this.#secrets = createProxySecrets(resolved.token);
    const statusSource: StatusSource = {
      targets: this.#targets,
      limiter,
      metrics,
      uptimeSeconds,
      timeoutMs: resolved.timeoutMs,
      healthChecks: this.#health.enabled,
      clusterWorker: resolved.clusterWorker,
    };
    const statusRoute = new StatusRoute(statusSource);
    this.#localRoutes = new LocalRoutes({
      status: (target) => statusRoute.answer(target),
      hosts: () => this.#hostsBody,
      metrics,
      logger: this.#logger,
    });
    this.#crossSite = new CrossSiteGuard({
      hosts: new HostAllowlist({
        bindHost: resolved.listenTcp ? resolved.host : undefined,
        allowHosts: resolved.allowHosts,
      }),
      allowOrigins: resolved.allowOrigins,
      logger: this.#logger,
    });
    // One HTTP server per listener, each with the same guards and the same handler.
    const guardedServer = () => {
      const server = createServer(limitedServerOptions(resolved), this.#onRequest);
      installServerGuards(server, resolved, this.#logger);
      server.on('connection', watchClientConnection);
      return server;
    };
    this.#tcpServer = resolved.listenTcp ? guardedServer() : undefined;
    this.#unixServer = resolved.unixSocket === undefined ? undefined : guardedServer();
    this.#servers = [this.#tcpServer, this.#unixServer].filter((server) => server !== undefined);
    this.#reloader = new HostfileReloader({
      hostfile: resolved.hostfile,
      watch: resolved.watchHostfile,
      logger: this.#logger,
      metrics,
      current: () => this.#endpoints,
      apply: (next) => {
        const changes = this.#targets.replace(next);
        this.#endpoints = next;
        this.#hostsBody = hostsBodyOf(next);
        // New agents are unknown: probe them now rather than at the next round.
        if (changes.added > 0) void this.#health.checkNow();
        return changes;
      },
    });
  }

  get url(): string {
    const { listenTcp, host, unixSocket } = this.#options;
    if (!listenTcp && unixSocket !== undefined) return unixProxyUrl(unixSocket);
    return `http://${connectHost(host)}:${this.#port}`;
  }

  get socketPath(): string | undefined {
    return this.#options.unixSocket;
  }

  get host(): string {
    return this.#options.host;
  }

  get port(): number {
    return this.#port;
  }

  get endpoints(): readonly AgentEndpoint[] {
    return this.#endpoints;
  }

  reload(endpoints?: readonly AgentEndpoint[]): Promise<readonly AgentEndpoint[]> {
    return this.#reloader.reload(endpoints);
  }

  checkHealth(): Promise<void> {
    return this.#health.checkNow();
  }

  close(graceMs: number = this.#options.shutdownGraceMs): Promise<void> {
    if (this.#closing !== undefined) {
      if (graceMs <= 0) this.#exchanges.stopWaiting();
      return this.#closing;
    }
    this.#closing = this.#shutDown(graceMs);
    return this.#closing;
  }

  destroy(): Promise<void> {
    return this.close(0);
  }

  /** A graceful {@link close} at the end of an `await using` scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #listen(): Promise<void> {
    const { host, port, unixSocket, clusterWorker } = this.#options;
    try {
      // With --workers the primary checks the path and binds (proxy-cluster.ts).
      const bindsHere = clusterWorker === undefined;
      if (unixSocket !== undefined && bindsHere) {
        await prepareUnixSocketPath(unixSocket, this.#logger);
      }
      if (this.#tcpServer !== undefined) this.#port = await listen(this.#tcpServer, host, port);
      if (this.#unixServer !== undefined && unixSocket !== undefined) {
        await listenUnixSocket(this.#unixServer, unixSocket, bindsHere);
      }
    } catch (error) {
      await Promise.all(this.#servers.map(closeIfListening));
      await this.#upstream.destroy();
      await this.#health.close();
      throw error;
    }
    const agents = this.#endpoints.length;
    const tcp = this.#tcpServer !== undefined;
    this.#logger.info(
      proxyStartedMessage({
        host: tcp ? host : undefined,
        port: tcp ? this.#port : undefined,
        socketPath: unixSocket,
        agents,
        workers: undefined,
      }),
    );
    if (tcp) {
      const warning = openPortWarning(host, this.#port, agents, this.#secrets !== undefined);
      if (warning !== undefined) this.#logger.warning(warning);
    }
    this.#health.start();
    this.#reloader.startWatching();
    this.#heapRelease?.start();
  }

  async #shutDown(graceMs: number): Promise<void> {
    this.#reloader.close();
    this.#heapRelease?.close();
    const healthClosed = this.#health.close();
    // A Unix socket's file is removed as its server closes.
    const serversClosed = Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    if (this.#exchanges.open > 0) {
      await this.#exchanges.waitUntilIdle(graceMs);
      if (this.#exchanges.open > 0) {
        this.#logger.warning(
          `cutting ${this.#exchanges.open} request(s) still running after the grace period`,
        );
      }
    }
    // Cuts what is still running (their upstream requests are aborted with them)
    // and the idle keep-alive connections.
    for (const server of this.#servers) server.closeAllConnections();
    await serversClosed;
    await this.#upstream.destroy();
    await healthClosed;
    this.#logger.info('Proxy shut down');
  }

  readonly #onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    if (this.#closing !== undefined) {
      response.shouldKeepAlive = false;
      sendJsonError(response, 503, 'the proxy is shutting down');
      return;
    }
    const head = scanRequestHead(request.rawHeaders);
    if (refuseOverLimit(request, response, this.#options, head)) return;
    if (this.#crossSite.guard(request, response, head)) return;
    const targets = this.#targets;
    const route = routeRequest(request.url ?? '/', targets.all.length);
    const access = gateRequest(route, request, this.#secrets);
    if (access === 'deny') {
      answerDenied(response);
      return;
    }
    switch (route.kind) {
      case 'page':
        answerStatusPage(
          request,
          response,
          access === 'session' ? this.#secrets?.session : undefined,
          this.#logger,
        );
        return;
      case 'agent':
        forwardRequest(this.#forward, targets.all[route.index]!, request, response, route.path);
        return;
      case 'pooled':
        forwardPooledRequest(this.#forward, targets, request, response, route.path);
        return;
      case 'health':
      case 'status':
      case 'hosts':
      case 'metrics':
        this.#localRoutes.answer(route.kind, request, response);
        return;
      case 'bad-index':
        sendJsonError(response, 400, route.message);
        return;
      case 'not-found':
        sendJsonError(response, 404, NOT_FOUND_MESSAGE);
    }
  };
}

/**
 * Start the proxy: one port (and/or an owner-only Unix socket, `unixSocket`),
 * `/agent/{index}/{path}` forwarded to the agent on
 * hostfile line `index`, `/v1/...` to a healthy agent of the proxy's choosing,
 * plus `/` (the status page), `/health`, `/status`, `/hosts` and `/metrics`. Agents
 * are probed for health in the background, and the hostfile is reloaded when it
 * changes. Requests with a `Host` that is not a name of the proxy, or from web pages
 * of other origins, are refused before any route (docs/security.md).
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
export function startProxy(
  options: ProxyOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<RunningProxy> {
  return ProxyServer.start(options, env);
}

/** A client connection: the exchange it waits for is abandoned as soon as it ends its side. */
function watchClientConnection(socket: Socket): void {
  socket.on('end', onClientConnectionEnd);
}
