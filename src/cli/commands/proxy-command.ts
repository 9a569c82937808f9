/**
 * `aurora-swarm-proxy` (and `aurora-swarm proxy`): start the proxy with the flags
 * (proxy-flags.ts), or with `--workers N` fork N workers (proxy-cluster.ts), and run
 * until SIGINT/SIGTERM; SIGHUP reloads the hostfile.
 */
import { Command } from 'commander';
import { InvalidOptionError } from '../../errors.js';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
import {
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
  DEFAULT_LOG_LEVEL,
  PROXY_TOKEN_ENV_VAR,
  resolveProxyOptions,
} from '../../proxy/proxy-options.js';
import { startProxy } from '../../proxy/proxy-server.js';
import type { RunningProxy } from '../../proxy/running-proxy.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_USAGE } from '../cli-io.js';
import { configureCommand } from '../configure-command.js';
import { checkPidFile, removePidFile } from '../pid-file.js';
import { useProxyHeap } from '../proxy-heap.js';
import { ShutdownSignals } from '../shutdown-signals.js';
import {
  addProxyFlags,
  type ProxyFlags,
  proxyOptionsFrom,
  withoutDefaultTcp,
} from './proxy-flags.js';
import { PROXY_HELP_AFTER } from './proxy-help.js';
import {
  announceProcess,
  type ProxyToken,
  resolveProxyToken,
  writePidFileOf,
} from './proxy-startup.js';

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

/**
 * `--workers N` (N > 1), in the primary: check the options once, fork the workers
 * (proxy-cluster.ts), relay SIGINT/SIGTERM to them and wait until they have all exited.
 */
async function runProxyPrimary(
  flags: ProxyFlags,
  io: CliIo,
  workers: number,
  token: ProxyToken,
): Promise<number> {
  const logger = new ProxyLogger(parseLogLevel(flags.logLevel) ?? DEFAULT_LOG_LEVEL, io.stderr);
  let running: RunningProxyCluster | undefined;
  // A signal during startup is remembered and acted upon once the workers are up.
  const signals = new ShutdownSignals(io);
  // Every worker watches the hostfile itself; SIGHUP is relayed to them all.
  const stopReloadListening = io.onReloadSignal?.(() => {
    if (running === undefined || signals.stopping) return;
    logger.info(`Received SIGHUP: reloading the hostfile in ${workers} workers`);
    running.reload();
  });
  try {
    let resolved: ReturnType<typeof resolveProxyOptions>;
    try {
      // Checked already (runProxy); resolved again with the token `--token auto` gave.
      resolved = resolveProxyOptions({ ...proxyOptionsFrom(flags), token: token.token }, io.env);
    } catch (error) {
      return startFailure(error, io);
    }
    try {
      running = await startProxyCluster({
        workers,
        host: resolved.listenTcp ? resolved.host : undefined,
        unixSocket: resolved.unixSocket,
        shutdownGraceMs: resolved.shutdownGraceMs,
        logger,
        ...(token.auto && token.token !== undefined
          ? { workerEnv: { [PROXY_TOKEN_ENV_VAR]: token.token } }
          : {}),
      });
    } catch (error) {
      return startFailure(error, io);
    }
    // The pid file first: once the line naming it is out, it is there.
    if (!writePidFileOf(flags, logger)) {
      await running.close(true);
      return EXIT_FAILURE;
    }
    announceProcess(logger, flags, io, token);
    const cluster = running;
    signals.handle({
      first: (signal) => {
        logger.info(`Received ${signal}: shutting down ${workers} workers`);
        void cluster.close();
      },
      again: (signal) => {
        logger.warning(`Received ${signal} again: cutting in-flight requests now`);
        void cluster.close(true);
      },
    });
    try {
      return await running.exited;
    } finally {
      if (flags.pidFile !== undefined) removePidFile(flags.pidFile);
    }
  } finally {
    signals.dispose();
    stopReloadListening?.();
  }
}

/**
 * Start the proxy with the parsed flags and run it until SIGINT/SIGTERM.
 * Returns the exit code: 0 after a clean shutdown, 1 when it cannot start,
 * 2 for an invalid flag value.
 */
async function runProxy(flags: ProxyFlags, io: CliIo): Promise<number> {
  // Per-request objects stay in the young generation (see proxy-heap.ts).
  useProxyHeap();
  let workers: number;
  try {
    workers = resolveProxyWorkers(flags.workers);
  } catch (error) {
    return startFailure(error, io);
  }
  const worker = proxyWorkerIdentity(io.env);
  let token: ProxyToken;
  try {
    if (worker === undefined) {
      // Every flag and the hostfile first: a bad one changes nothing (no token file
      // written, no pid file checked). Workers leave that to the primary.
      const checked = resolveProxyOptions(proxyOptionsFrom(flags), io.env);
      if (checked.hostfile !== undefined) parseHostfile(checked.hostfile);
    }
    token = resolveProxyToken(flags, io, worker !== undefined);
    if (worker === undefined && flags.pidFile !== undefined) checkPidFile(flags.pidFile);
  } catch (error) {
    return startFailure(error, io);
  }
  if (workers > 1 && worker === undefined) return runProxyPrimary(flags, io, workers, token);
  const logSink = worker === undefined ? io.stderr : workerLogSink(io.stderr, worker);
  const logger = new ProxyLogger(parseLogLevel(flags.logLevel) ?? DEFAULT_LOG_LEVEL, logSink);
  let proxy: RunningProxy | undefined;
  // Listen before starting, so a signal during startup cannot kill the process
  // with the default action; it is acted upon once the proxy is up.
  const signals = new ShutdownSignals(io);
  let stopPrimaryRequests: (() => void) | undefined;
  let stopPrimaryReloads: (() => void) | undefined;
  const reload = (reason: string) => {
    if (proxy === undefined || signals.stopping) return;
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
          token: token.token,
          logSink,
          ...(worker === undefined ? {} : { clusterWorker: worker }),
        },
        io.env,
      );
    } catch (error) {
      return startFailure(error, io);
    }
    const running = proxy;
    if (worker === undefined) {
      if (!writePidFileOf(flags, logger)) {
        await running.close(0);
        return EXIT_FAILURE;
      }
      announceProcess(logger, flags, io, token);
    }
    await new Promise<void>((resolve) => {
      const handlers = {
        first: (signal: NodeJS.Signals) => {
          // close() stops listening synchronously, so once this line is out new
          // connections are refused.
          running.close().then(resolve, resolve);
          logger.info(`Received ${signal}: shutting down`);
        },
        again: (signal: NodeJS.Signals) => {
          logger.warning(`Received ${signal} again: cutting in-flight requests now`);
          void running.close(0);
        },
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
      signals.handle(handlers);
    });
    if (worker === undefined && flags.pidFile !== undefined) removePidFile(flags.pidFile);
    return 0;
  } finally {
    signals.dispose();
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
  const command = addProxyFlags(
    new Command(name).description(
      'HTTP reverse proxy: every agent of the hostfile behind one port, addressed as /agent/{index}/...',
    ),
  )
    .addHelpText('after', PROXY_HELP_AFTER)
    .action(async (flags: ProxyFlags, self: Command) => {
      const explicit = (flag: 'host' | 'port') => self.getOptionValueSource(flag) !== 'default';
      outcome.exitCode = await runProxy(withoutDefaultTcp(flags, explicit), io);
    });
  return configureCommand(command, io, (message) => formatLogLine(new Date(), 'ERROR', message));
}
