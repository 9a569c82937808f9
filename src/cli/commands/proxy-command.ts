import { Command, Option } from 'commander';
import { InvalidOptionError } from '../../errors.js';
import { parseHostfile } from '../../hostfile/read-hostfile.js';
import {
  DEFAULT_BODY_IDLE_TIMEOUT_SECONDS,
  DEFAULT_HEADERS_TIMEOUT_SECONDS,
  DEFAULT_MAX_BODY_SIZE_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_SIZE_BYTES,
} from '../../proxy/guards/proxy-limits.js';
import {
  DEFAULT_PROXY_WORKERS,
  onPrimaryReloadRequest,
  onPrimaryShutdownRequest,
  proxyWorkerIdentity,
  type RunningProxyCluster,
  reportWorkerListening,
  resolveProxyWorkers,
  startProxyCluster,
  workerLogSink,
} from '../../proxy/proxy-cluster.js';
import { formatLogLine, ProxyLogger, parseLogLevel } from '../../proxy/proxy-logger.js';
import {
  DEFAULT_CONNECTOR_LIMIT,
  DEFAULT_HEALTH_CONCURRENCY,
  DEFAULT_HEALTH_INTERVAL_SECONDS,
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_HOST,
  DEFAULT_PROXY_PORT,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  HOSTFILE_ENV_VAR,
  PROXY_TOKEN_ENV_VAR,
  resolveProxyOptions,
} from '../../proxy/proxy-options.js';
import { startProxy } from '../../proxy/proxy-server.js';
import type { RunningProxy } from '../../proxy/running-proxy.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_USAGE } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { PROXY_HELP_AFTER } from './proxy-help.js';

/** Flag values as commander hands them over (raw text unless defaulted). */
interface ProxyFlags {
  hostfile?: string;
  host: string;
  port: string | number;
  connectorLimit: string | number;
  timeout: string | number;
  maxTimeout?: string;
  logLevel: string;
  token?: string;
  shutdownGrace: string | number;
  maxConnections?: string;
  maxHeaderSize?: string;
  maxBodySize?: string;
  headersTimeout?: string;
  bodyTimeout?: string;
  healthInterval: string | number;
  healthTimeout: string | number;
  unhealthyThreshold: string | number;
  healthyThreshold: string | number;
  healthConcurrency: string | number;
  watch: boolean;
  metricsAgentLabel: boolean;
  workers: string | number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Log a startup failure and give its exit code (2 for a bad option value). */
function startFailure(error: unknown, io: CliIo): number {
  const usage = error instanceof InvalidOptionError;
  const level = usage || error instanceof Error ? 'ERROR' : 'CRITICAL';
  io.stderr(formatLogLine(new Date(), level, errorMessage(error)));
  return usage ? EXIT_USAGE : EXIT_FAILURE;
}

function proxyOptionsFrom(flags: ProxyFlags) {
  return {
    hostfile: flags.hostfile,
    host: flags.host,
    port: flags.port,
    connectorLimit: flags.connectorLimit,
    timeoutSeconds: flags.timeout,
    maxTimeoutSeconds: flags.maxTimeout,
    logLevel: flags.logLevel,
    token: flags.token,
    shutdownGraceSeconds: flags.shutdownGrace,
    maxConnections: flags.maxConnections,
    maxHeaderSizeBytes: flags.maxHeaderSize,
    maxBodySizeBytes: flags.maxBodySize,
    headersTimeoutSeconds: flags.headersTimeout,
    bodyIdleTimeoutSeconds: flags.bodyTimeout,
    healthIntervalSeconds: flags.healthInterval,
    healthTimeoutSeconds: flags.healthTimeout,
    unhealthyThreshold: flags.unhealthyThreshold,
    healthyThreshold: flags.healthyThreshold,
    healthConcurrency: flags.healthConcurrency,
    watchHostfile: flags.watch,
    metricsAgentLabel: flags.metricsAgentLabel,
  };
}

/**
 * `--workers N` (N > 1), in the primary: check the options once, fork the workers
 * (proxy-cluster.ts), relay SIGINT/SIGTERM to them and wait until they have all exited.
 */
async function runProxyPrimary(flags: ProxyFlags, io: CliIo, workers: number): Promise<number> {
  const logger = new ProxyLogger(parseLogLevel(flags.logLevel) ?? DEFAULT_LOG_LEVEL, io.stderr);
  let running: RunningProxyCluster | undefined;
  let signalCount = 0;
  let earlySignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (running === undefined) {
      earlySignal ??= signal;
      return;
    }
    signalCount++;
    if (signalCount === 1) {
      logger.info(`Received ${signal}: shutting down ${workers} workers`);
      void running.close();
    } else {
      logger.warning(`Received ${signal} again: cutting in-flight requests now`);
      void running.close(true);
    }
  };
  const stopListening = io.onSignal(onSignal);
  // Every worker watches the hostfile itself; SIGHUP is relayed to them all.
  const stopReloadListening = io.onReloadSignal?.(() => {
    if (running === undefined || signalCount > 0) return;
    logger.info(`Received SIGHUP: reloading the hostfile in ${workers} workers`);
    running.reload();
  });
  try {
    let shutdownGraceMs: number;
    let host: string;
    try {
      const resolved = resolveProxyOptions(proxyOptionsFrom(flags), io.env);
      if (resolved.hostfile !== undefined) parseHostfile(resolved.hostfile);
      shutdownGraceMs = resolved.shutdownGraceMs;
      host = resolved.host;
    } catch (error) {
      return startFailure(error, io);
    }
    try {
      running = await startProxyCluster({ workers, host, shutdownGraceMs, logger });
    } catch (error) {
      return startFailure(error, io);
    }
    if (earlySignal !== undefined) onSignal(earlySignal);
    return await running.exited;
  } finally {
    stopListening();
    stopReloadListening?.();
  }
}

/**
 * Start the proxy with the parsed flags and run it until SIGINT/SIGTERM.
 * Returns the exit code: 0 after a clean shutdown, 1 when it cannot start,
 * 2 for an invalid flag value.
 */
async function runProxy(flags: ProxyFlags, io: CliIo): Promise<number> {
  let workers: number;
  try {
    workers = resolveProxyWorkers(flags.workers);
  } catch (error) {
    return startFailure(error, io);
  }
  const worker = proxyWorkerIdentity(io.env);
  if (workers > 1 && worker === undefined) return runProxyPrimary(flags, io, workers);
  const logSink = worker === undefined ? io.stderr : workerLogSink(io.stderr, worker);
  const logger = new ProxyLogger(parseLogLevel(flags.logLevel) ?? DEFAULT_LOG_LEVEL, logSink);
  let proxy: RunningProxy | undefined;
  let signalCount = 0;
  let onShutdownSignal: ((signal: NodeJS.Signals) => void) | undefined;
  // Listen before starting, so a signal during startup cannot kill the process
  // with the default action; it is acted upon once the proxy is up.
  let earlySignal: NodeJS.Signals | undefined;
  let stopPrimaryRequests: (() => void) | undefined;
  let stopPrimaryReloads: (() => void) | undefined;
  const stopListening = io.onSignal((signal) => {
    if (onShutdownSignal === undefined) earlySignal ??= signal;
    else onShutdownSignal(signal);
  });
  const reload = (reason: string) => {
    if (proxy === undefined || signalCount > 0) return;
    logger.info(`${reason}: reloading the hostfile`);
    // reload() logs the outcome, a rejection included.
    proxy.reload().catch(() => undefined);
  };
  // Also before starting: SIGHUP's default action would kill the process. During
  // startup it is moot (the hostfile is being read anyway).
  const stopReloadListening = io.onReloadSignal?.(() => reload('Received SIGHUP'));
  try {
    try {
      proxy = await startProxy(
        {
          ...proxyOptionsFrom(flags),
          logSink,
          ...(worker === undefined ? {} : { clusterWorker: worker }),
        },
        io.env,
      );
    } catch (error) {
      return startFailure(error, io);
    }
    const running = proxy;
    await new Promise<void>((resolve) => {
      onShutdownSignal = (signal) => {
        signalCount++;
        if (signalCount === 1) {
          // close() stops listening synchronously, so once this line is out new
          // connections are refused.
          running.close().then(resolve, resolve);
          logger.info(`Received ${signal}: shutting down`);
        } else {
          logger.warning(`Received ${signal} again: cutting in-flight requests now`);
          void running.close(0);
        }
      };
      if (worker !== undefined) {
        // The primary relays the user's signals as messages (a terminal's Ctrl-C also
        // reaches the workers directly; close() is idempotent).
        stopPrimaryRequests = onPrimaryShutdownRequest((now) => {
          if (now) void running.close(0);
          else running.close().then(resolve, resolve);
        });
        stopPrimaryReloads = onPrimaryReloadRequest(() => reload('Asked by the primary'));
        reportWorkerListening(running.port, running.endpoints.length);
      }
      if (earlySignal !== undefined) onShutdownSignal(earlySignal);
    });
    return 0;
  } finally {
    stopListening();
    stopReloadListening?.();
    stopPrimaryRequests?.();
    stopPrimaryReloads?.();
  }
}

/**
 * The proxy command: `aurora-swarm proxy` (default name) or the root of the
 * standalone `aurora-swarm-proxy` program. Flags as in the usage guide.
 */
export function createProxyCommand(io: CliIo, outcome: CliOutcome, name = 'proxy'): Command {
  const command = new Command(name)
    .description(
      'HTTP reverse proxy: every agent of the hostfile behind one port, addressed as /agent/{index}/...',
    )
    .option(
      '-f, --hostfile <path>',
      `path to the hostfile listing agent endpoints (host<TAB>port[<TAB>key=value...] per line); falls back to the ${HOSTFILE_ENV_VAR} environment variable`,
    )
    .option(
      '--host <address>',
      'address to bind; 0.0.0.0 accepts connections from anywhere (use 127.0.0.1 to allow only this machine, SSH tunnels included)',
      DEFAULT_PROXY_HOST,
    )
    .addOption(
      new Option('-p, --port <port>', 'TCP port to listen on (0 picks a free port)').default(
        DEFAULT_PROXY_PORT,
      ),
    )
    .addOption(
      new Option(
        '--connector-limit <count>',
        'maximum simultaneous outbound connections to the agents, all together; further requests wait their turn',
      ).default(DEFAULT_CONNECTOR_LIMIT),
    )
    .addOption(
      new Option(
        '-t, --timeout <seconds>',
        'default upstream timeout in seconds (fractions allowed): the wait for response headers and any silent gap in a response body; overridden per request by the X-Timeout header',
      ).default(DEFAULT_TIMEOUT_SECONDS),
    )
    .option(
      '--max-timeout <seconds>',
      'cap on the X-Timeout a request may ask for (default: no cap)',
    )
    .option(
      '--log-level <level>',
      'logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)',
      DEFAULT_LOG_LEVEL,
    )
    .option(
      '--token <token>',
      `require "Proxy-Authorization: Bearer <token>" on every route but /health; falls back to the ${PROXY_TOKEN_ENV_VAR} environment variable (preferred: a flag shows in ps)`,
    )
    .addOption(
      new Option(
        '--shutdown-grace <seconds>',
        'on SIGINT/SIGTERM, how long in-flight requests may take to finish before they are cut',
      ).default(DEFAULT_SHUTDOWN_GRACE_SECONDS),
    )
    .option(
      '--max-connections <count>',
      `most simultaneous client connections (per worker); further ones are closed at once (default: ${DEFAULT_MAX_CONNECTIONS})`,
    )
    .option(
      '--max-header-size <bytes>',
      `largest request head in bytes, units k/m allowed; larger ones get 431 (default: ${DEFAULT_MAX_HEADER_SIZE_BYTES})`,
    )
    .option(
      '--max-body-size <bytes>',
      `largest request body in bytes, units k/m/g allowed (e.g. 64m); larger ones get 413 (default: ${DEFAULT_MAX_BODY_SIZE_BYTES}, 64 MiB)`,
    )
    .option(
      '--headers-timeout <seconds>',
      `seconds a client has to send its request head; slower ones get 408 (default: ${DEFAULT_HEADERS_TIMEOUT_SECONDS})`,
    )
    .option(
      '--body-timeout <seconds>',
      `seconds a request body may stay silent while uploaded; then 408 and the agent's request is aborted (default: ${DEFAULT_BODY_IDLE_TIMEOUT_SECONDS})`,
    )
    .addOption(
      new Option(
        '-w, --workers <count>',
        'worker processes sharing the port (node:cluster), to use more than one core; /status counters are per worker',
      ).default(DEFAULT_PROXY_WORKERS),
    )
    .addOption(
      new Option(
        '--health-interval <seconds>',
        'seconds between health probe rounds (GET /health of every agent); 0 turns health checking off (every agent then counts as healthy)',
      ).default(DEFAULT_HEALTH_INTERVAL_SECONDS),
    )
    .addOption(
      new Option(
        '--health-timeout <seconds>',
        'most seconds one health probe may take, connection included',
      ).default(DEFAULT_HEALTH_TIMEOUT_SECONDS),
    )
    .addOption(
      new Option(
        '--unhealthy-threshold <count>',
        'consecutive failures (probes, or requests that cannot connect) that take an agent out of the /v1 pool',
      ).default(DEFAULT_UNHEALTHY_THRESHOLD),
    )
    .addOption(
      new Option(
        '--healthy-threshold <count>',
        'consecutive successful probes that bring an unhealthy agent back',
      ).default(DEFAULT_HEALTHY_THRESHOLD),
    )
    .addOption(
      new Option('--health-concurrency <count>', 'most health probes in flight at once').default(
        DEFAULT_HEALTH_CONCURRENCY,
      ),
    )
    .option(
      '--no-watch',
      'do not reload the hostfile when it changes on disk (SIGHUP still reloads it)',
    )
    .option(
      '--no-metrics-agent-label',
      'count requests in /metrics by status class only, without the agent label (fewer series for very large swarms)',
    )
    .addHelpText('after', PROXY_HELP_AFTER)
    .action(async (flags: ProxyFlags) => {
      outcome.exitCode = await runProxy(flags, io);
    });
  return configureCommand(command, io, (message) => formatLogLine(new Date(), 'ERROR', message));
}
