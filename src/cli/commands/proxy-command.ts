import { Command, Option } from 'commander';
import { InvalidOptionError } from '../../errors.js';
import { parseHostfile } from '../../hostfile/read-hostfile.js';
import {
  DEFAULT_PROXY_WORKERS,
  onPrimaryShutdownRequest,
  proxyWorkerIdentity,
  type RunningProxyCluster,
  reportWorkerListening,
  resolveProxyWorkers,
  startProxyCluster,
  workerLogSink,
} from '../../proxy/proxy-cluster.js';
import {
  DEFAULT_BODY_IDLE_TIMEOUT_SECONDS,
  DEFAULT_HEADERS_TIMEOUT_SECONDS,
  DEFAULT_MAX_BODY_SIZE_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_SIZE_BYTES,
} from '../../proxy/proxy-limits.js';
import { formatLogLine, ProxyLogger, parseLogLevel } from '../../proxy/proxy-logger.js';
import {
  DEFAULT_CONNECTOR_LIMIT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_HOST,
  DEFAULT_PROXY_PORT,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  HOSTFILE_ENV_VAR,
  PROXY_TOKEN_ENV_VAR,
  resolveProxyOptions,
} from '../../proxy/proxy-options.js';
import { type RunningProxy, startProxy } from '../../proxy/proxy-server.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_USAGE } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';

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
  workers: string | number;
}

const HELP_AFTER = `
Routes:
  GET  /health                   {"status": "ok"} (never needs the token)
  GET  /status                   agent count, uptime, endpoints with per-agent counters
  GET  /hosts                    the hostfile's agents as {"hosts": [{host, port, tags}]}
  ANY  /agent/{index}/{path}     forwarded to http://host:port/{path} of hostfile line {index}

Per request, the X-Timeout header (seconds) overrides --timeout.

Examples:
  $ aurora-swarm-proxy --hostfile hostfile.txt
  $ AURORA_SWARM_HOSTFILE=hostfile.txt aurora-swarm-proxy --host 127.0.0.1 --port 9090
  $ ssh -fNL 9090:localhost:9090 user@hpc-login-node     # on your laptop
  $ curl http://localhost:9090/agent/0/v1/models

Documentation: docs/proxy.md`;

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
  const stopListening = io.onSignal((signal) => {
    if (onShutdownSignal === undefined) earlySignal ??= signal;
    else onShutdownSignal(signal);
  });
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
        reportWorkerListening(running.port, running.endpoints.length);
      }
      if (earlySignal !== undefined) onShutdownSignal(earlySignal);
    });
    return 0;
  } finally {
    stopListening();
    stopPrimaryRequests?.();
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
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: ProxyFlags) => {
      outcome.exitCode = await runProxy(flags, io);
    });
  return configureCommand(command, io, (message) => formatLogLine(new Date(), 'ERROR', message));
}
