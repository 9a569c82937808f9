/**
 * Running the proxy as N worker processes that share its port (node:cluster), to use
 * more than one core. The primary forks the workers, waits until every one listens,
 * logs the one `Proxy started` line with the real port, relays shutdown requests over
 * IPC and logs `Proxy shut down` once they have all exited. Each worker is a normal
 * proxy (`startProxy`) whose log lines say which worker wrote them and whose
 * `/status` reports its own counters (see docs/proxy.md).
 */
import cluster, { type Worker } from 'node:cluster';
import { InvalidOptionError, ProxyStartError } from '../errors.js';
import { describeValue } from '../internal/describe-value.js';
import { nodeFlagGiven } from '../internal/node-flags.js';
import type { LogSink, ProxyLogger } from './proxy-logger.js';
import { parseProxyStartedLine, proxyStartedMessage } from './server/listening.js';
import { ownerOnlyUmask, prepareUnixSocketPath } from './server/unix-socket.js';

/** Worker processes when `--workers` is not given. */
export const DEFAULT_PROXY_WORKERS = 1;
/** Upper bound of `--workers`. */
const MAX_PROXY_WORKERS = 64;
/** Set by the primary in each worker's environment: `index/count`, e.g. `2/4`. */
const PROXY_WORKER_ENV_VAR = 'AURORA_SWARM_PROXY_WORKER';
/**
 * V8 flag given to workers unless the user set their own: a larger young generation
 * means fewer scavenges per request (measured ~15% less CPU per proxied request, bench/).
 */
const WORKER_SEMI_SPACE_FLAG = '--max-semi-space-size=64';

const LISTENING_MESSAGE = 'aurora-swarm-proxy:listening';
const SHUTDOWN_MESSAGE = 'aurora-swarm-proxy:shutdown';
const RELOAD_MESSAGE = 'aurora-swarm-proxy:reload';
// After the grace period, how long the primary waits before killing a worker that
// still has not exited.
const WORKER_EXIT_MARGIN_MS = 10_000;

/** Which worker of a cluster this process is. */
export interface ProxyWorkerIdentity {
  /** 1-based worker number. */
  index: number;
  /** Number of workers in the cluster. */
  count: number;
}

/** Validate `--workers`: an integer from 1 to {@link MAX_PROXY_WORKERS}. */
export function resolveProxyWorkers(value: number | string | undefined): number {
  if (value === undefined) return DEFAULT_PROXY_WORKERS;
  const number =
    typeof value === 'string' && /^\+?[0-9]+$/.test(value.trim()) ? Number(value) : value;
  if (
    typeof number !== 'number' ||
    !Number.isInteger(number) ||
    number < 1 ||
    number > MAX_PROXY_WORKERS
  ) {
    throw new InvalidOptionError(
      `invalid value ${describeValue(value)} for --workers: expected an integer from 1 to ${MAX_PROXY_WORKERS}`,
    );
  }
  return number;
}

/** This process's identity when it is a proxy worker forked by {@link startProxyCluster}. */
export function proxyWorkerIdentity(
  env: Readonly<Record<string, string | undefined>>,
): ProxyWorkerIdentity | undefined {
  if (!cluster.isWorker) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(env[PROXY_WORKER_ENV_VAR] ?? '');
  if (!match) return undefined;
  return { index: Number(match[1]), count: Number(match[2]) };
}

/**
 * A worker's log sink: `[worker i/n] ` before each message. The worker's own
 * `Proxy started` line is dropped: the primary logs it once, with every worker up.
 */
export function workerLogSink(sink: LogSink, identity: ProxyWorkerIdentity): LogSink {
  const prefix = `[worker ${identity.index}/${identity.count}] `;
  return (line) => {
    if (parseProxyStartedLine(line) !== undefined) return;
    const at = line.indexOf(': ');
    sink(at === -1 ? `${prefix}${line}` : `${line.slice(0, at + 2)}${prefix}${line.slice(at + 2)}`);
  };
}

/** In a worker: tell the primary the proxy listens on `port` with `agents` agents. */
export function reportWorkerListening(port: number, agents: number): void {
  process.send?.({ type: LISTENING_MESSAGE, port, agents });
}

/**
 * In a worker: call `handler` when the primary asks for a shutdown (`now`: cut
 * in-flight requests instead of waiting for them). Returns the unsubscribe function.
 */
export function onPrimaryShutdownRequest(handler: (now: boolean) => void): () => void {
  const listener = (message: unknown) => {
    const typed = message as { type?: unknown; now?: unknown } | null;
    if (typed?.type === SHUTDOWN_MESSAGE) handler(typed.now === true);
  };
  process.on('message', listener);
  return () => process.off('message', listener);
}

/**
 * In a worker: call `handler` when the primary asks for a hostfile reload (it got
 * SIGHUP). Returns the unsubscribe function.
 */
export function onPrimaryReloadRequest(handler: () => void): () => void {
  const listener = (message: unknown) => {
    if ((message as { type?: unknown } | null)?.type === RELOAD_MESSAGE) handler();
  };
  process.on('message', listener);
  return () => process.off('message', listener);
}

/** A running cluster, seen from the primary. */
export interface RunningProxyCluster {
  /** The TCP port every worker listens on (0 on a Unix socket only). */
  readonly port: number;
  /** Number of agents (from the first worker to listen). */
  readonly agents: number;
  /** Number of workers started. */
  readonly workers: number;
  /** Resolves with the exit code once every worker has exited (0 when all exited cleanly). */
  readonly exited: Promise<number>;
  /**
   * Ask every worker to shut down: gracefully (each finishes its in-flight requests for
   * up to its grace period), or at once with `now`. Resolves like `exited`.
   */
  close(now?: boolean): Promise<number>;
  /** Ask every worker to reload the hostfile (each logs the outcome). */
  reload(): void;
}

/** Options of {@link startProxyCluster}. */
export interface ProxyClusterOptions {
  /** Number of worker processes (at least 2 makes sense). */
  workers: number;
  /** Address the workers bind, for the startup line; `undefined` on a Unix socket only. */
  host: string | undefined;
  /**
   * The workers' Unix socket (`--unix`, absolute): checked and freed here before they
   * start, and bound here (node:cluster binds in the primary) with an owner-only umask.
   */
  unixSocket?: string | undefined;
  /** More environment for every worker (the token `--token auto` resolved, say). */
  workerEnv?: Readonly<Record<string, string>>;
  /** Grace period of the workers, in milliseconds (bounds the wait for them to exit). */
  shutdownGraceMs: number;
  /** The primary's logger. */
  logger: ProxyLogger;
}

/**
 * In the primary: fork `workers` copies of this program (same script and arguments,
 * with {@link PROXY_WORKER_ENV_VAR} set), wait until each listens, and log the
 * startup line.
 *
 * @throws {ProxyStartError} when a worker exits before listening (its own
 *   log line says why).
 */
export async function startProxyCluster(
  options: ProxyClusterOptions,
): Promise<RunningProxyCluster> {
  const { workers: count, logger, unixSocket } = options;
  if (unixSocket !== undefined) await prepareUnixSocketPath(unixSocket, logger);
  const userSetSemiSpace = nodeFlagGiven(/semi[-_]space[-_]size/);
  cluster.setupPrimary({
    execArgv: userSetSemiSpace ? process.execArgv : [...process.execArgv, WORKER_SEMI_SPACE_FLAG],
  });
  const workers: Worker[] = [];
  const exits: Promise<number>[] = [];
  let port = 0;
  let agents = 0;
  let shuttingDown = false;
  const started = Promise.all(
    Array.from({ length: count }, (_, offset) => {
      const index = offset + 1;
      const worker = cluster.fork({
        ...options.workerEnv,
        [PROXY_WORKER_ENV_VAR]: `${index}/${count}`,
      });
      workers.push(worker);
      const exit = new Promise<number>((resolve) => {
        worker.once('exit', (code, signal) => {
          if (!shuttingDown && port !== 0) {
            logger.error(
              `worker ${index}/${count} (pid ${worker.process.pid}) exited unexpectedly (${signal ?? `code ${code}`}); the others keep serving`,
            );
          }
          resolve(signal ? 1 : (code ?? 1));
        });
      });
      exits.push(exit);
      return new Promise<void>((resolve, reject) => {
        const onMessage = (message: { type?: unknown; port?: number; agents?: number }) => {
          if (message?.type !== LISTENING_MESSAGE) return;
          worker.off('message', onMessage);
          port = message.port ?? 0;
          agents = message.agents ?? 0;
          resolve();
        };
        worker.on('message', onMessage);
        void exit.then((code) =>
          reject(
            new ProxyStartError(
              `proxy worker ${index}/${count} exited (code ${code}) before listening`,
            ),
          ),
        );
      });
    }),
  );
  const allExited = () => Promise.all(exits).then((codes) => codes.find((code) => code !== 0) ?? 0);
  const close = (now = false): Promise<number> => {
    shuttingDown = true;
    for (const worker of workers) {
      if (worker.isConnected()) worker.send({ type: SHUTDOWN_MESSAGE, now });
    }
    const killTimer = setTimeout(
      () => {
        for (const worker of workers) if (!worker.isDead()) worker.process.kill('SIGKILL');
      },
      (now ? 0 : options.shutdownGraceMs) + WORKER_EXIT_MARGIN_MS,
    );
    return allExited().finally(() => clearTimeout(killTimer));
  };
  // The workers were forked with the user's umask; the socket the primary binds for
  // them (at the first worker's listen) gets the owner-only one.
  const restoreUmask = unixSocket === undefined ? undefined : ownerOnlyUmask();
  try {
    await started;
  } catch (error) {
    await close(true);
    throw error;
  } finally {
    restoreUmask?.();
  }
  logger.info(
    proxyStartedMessage({
      host: options.host,
      port: options.host === undefined ? undefined : port,
      socketPath: unixSocket,
      agents,
      workers: count,
    }),
  );
  const exited = allExited().then((code) => {
    logger.info('Proxy shut down');
    return code;
  });
  return {
    port,
    agents,
    workers: count,
    exited,
    close: (now) => close(now).then(() => exited),
    reload: () => {
      for (const worker of workers) {
        if (worker.isConnected()) worker.send({ type: RELOAD_MESSAGE });
      }
    },
  };
}
