/**
 * The options of `startProxy` (and of the `aurora-swarm-proxy` flags, which pass their
 * text through): their defaults, their `AURORA_SWARM_*` environment fallbacks, and the
 * one function that validates them. About 300 lines: every option's documentation,
 * default and check read best side by side.
 */

import { resolve as resolvePath } from 'node:path';
import { InvalidOptionError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { describeValue } from '../internal/describe-value.js';
import { parseAllowedOrigin } from './guards/cross-site-guard.js';
import { parseAllowedHost } from './guards/host-allowlist.js';
import {
  type ProxyLimitOptions,
  type ResolvedProxyLimits,
  resolveProxyLimits,
} from './guards/proxy-limits.js';
import { DEFAULT_MAX_IDLE_PER_AGENT } from './proxy-constants.js';
import { type LogLevel, type LogSink, parseLogLevel } from './proxy-logger.js';

/** Address the proxy binds to: every interface, so SSH tunnels and other hosts can reach it. */
export const DEFAULT_PROXY_HOST = '0.0.0.0';
/** TCP port the proxy listens on. */
export const DEFAULT_PROXY_PORT = 9090;
/** Most simultaneous outbound requests (and so connections) to agents, all agents together. */
export const DEFAULT_CONNECTOR_LIMIT = 1024;
/** Upstream timeout in seconds: the wait for response headers and every silent gap in a body. */
export const DEFAULT_TIMEOUT_SECONDS = 300;
/** Seconds in-flight requests get to finish after SIGINT/SIGTERM or `close()`. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 5;
/** Log level of the proxy. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'INFO';
/** Environment variable holding the hostfile path when none is given. */
export const HOSTFILE_ENV_VAR = 'AURORA_SWARM_HOSTFILE';
/** Environment variable holding the proxy token when none is given. */
export const PROXY_TOKEN_ENV_VAR = 'AURORA_SWARM_PROXY_TOKEN';
/** Seconds between health probe rounds (`GET /health` of every agent); 0 disables health checking. */
export const DEFAULT_HEALTH_INTERVAL_SECONDS = 10;
/** Most seconds a health probe may take, connection included. */
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 2;
/** Consecutive failures (probes or connection failures) that take an agent out of the pool. */
export const DEFAULT_UNHEALTHY_THRESHOLD = 2;
/** Consecutive successful probes that bring an unhealthy agent back. */
export const DEFAULT_HEALTHY_THRESHOLD = 1;
/** Most health probes at once. */
export const DEFAULT_HEALTH_CONCURRENCY = 64;
/** Longest timeout a Node.js timer can express, in seconds (2^31 − 1 ms, about 24.8 days). */
export const MAX_TIMEOUT_SECONDS = 2_147_483;

/**
 * Options of `startProxy` (and of the `aurora-swarm-proxy` command line, which passes
 * its flag values through unchanged: numeric options also accept their decimal text).
 */
export interface ProxyOptions extends ProxyLimitOptions {
  /**
   * Path of the hostfile listing the agents. Ignored when `endpoints` is given.
   * @default process.env.AURORA_SWARM_HOSTFILE
   */
  hostfile?: string;
  /** The agents, instead of a hostfile (index = agent index). */
  endpoints?: readonly AgentEndpoint[];
  /**
   * Address to bind. With `unixSocket`, a TCP port is opened too only when `host` or
   * `port` is given. @default '0.0.0.0'
   */
  host?: string;
  /** TCP port; 0 picks a free one (see `RunningProxy.port`). @default 9090 */
  port?: number | string;
  /**
   * Listen on this Unix-domain socket, mode 0600 (only this user can connect), in a
   * directory only this user can write (created 0700 when missing). A stale socket of
   * a killed proxy is replaced. Without `host` or `port`, no TCP port is opened.
   * @default undefined (TCP only)
   */
  unixSocket?: string;
  /**
   * More `Host` names the proxy answers to, besides localhost, loopback addresses,
   * the address bound, this machine's names and (bound to `0.0.0.0`) its addresses:
   * names a gateway or an alias puts in front. `.example.org` accepts the domain and
   * every name under it; `'*'` turns the Host check off. @default []
   */
  allowHosts?: readonly string[];
  /**
   * Web origins whose pages may call the proxy (`https://notebooks.example.org`);
   * requests from other pages are refused with 403 (the status page's own origin is
   * always allowed; requests without `Origin` are never affected). `'*'` allows any
   * origin. @default []
   */
  allowOrigins?: readonly string[];
  /** Most simultaneous outbound requests to agents; more wait in a FIFO queue. @default 1024 */
  connectorLimit?: number | string;
  /**
   * Most idle keep-alive connections kept to each agent; a connection that finishes its
   * request while that many are idle is closed (0: a new connection per request). Idle
   * connections close after 4 s in any case. @default 64
   */
  maxIdlePerAgent?: number | string;
  /** Default upstream timeout in seconds (fractions allowed); `X-Timeout` overrides it per request. @default 300 */
  timeoutSeconds?: number | string;
  /** Cap on a request's `X-Timeout`, in seconds; larger values are lowered to it. @default 2147483 (no cap) */
  maxTimeoutSeconds?: number | string;
  /** `DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`, any case. @default 'INFO' */
  logLevel?: LogLevel | string;
  /**
   * Shared secret: when set, every route but `/health` requires
   * `Proxy-Authorization: Bearer <token>`.
   * @default process.env.AURORA_SWARM_PROXY_TOKEN (none when unset or empty)
   */
  token?: string;
  /** Seconds in-flight requests may take to finish on shutdown before they are cut. @default 5 */
  shutdownGraceSeconds?: number | string;
  /** Seconds between health probe rounds; 0 disables health checking (every agent counts as healthy). @default 10 */
  healthIntervalSeconds?: number | string;
  /** Most seconds one health probe may take, connection included. @default 2 */
  healthTimeoutSeconds?: number | string;
  /** Consecutive failures (probes, or connection failures of requests) that mark an agent unhealthy. @default 2 */
  unhealthyThreshold?: number | string;
  /** Consecutive successful probes that mark an unhealthy agent healthy again. @default 1 */
  healthyThreshold?: number | string;
  /** Most health probes in flight at once. @default 64 */
  healthConcurrency?: number | string;
  /** Reload the hostfile when it changes on disk (it is also reloaded by `reload()` and, in the CLI, SIGHUP). @default true */
  watchHostfile?: boolean;
  /** Label `aurora_swarm_proxy_requests_total` by agent index (up to 6 series per agent). @default true */
  metricsAgentLabel?: boolean;
  /**
   * Once no forwarded request has been open for 2 s and the heap grew by 64 MiB, run
   * one full garbage collection so memory returns after a burst (server/idle-heap-release.ts).
   * It is the whole process's heap: turn it off when the proxy runs inside a program
   * of yours that minds. @default true
   */
  releaseIdleHeap?: boolean;
  /** Receives each log line. @default writes to process.stderr */
  logSink?: LogSink;
  /** Set by `--workers` in each worker process: which worker this is (shown by `/status`). */
  clusterWorker?: { index: number; count: number };
}

/** {@link ProxyOptions} validated, with defaults and environment applied. */
export interface ResolvedProxyOptions extends ResolvedProxyLimits {
  hostfile: string | undefined;
  endpoints: readonly AgentEndpoint[] | undefined;
  host: string;
  port: number;
  /** Whether a TCP port is opened (always, unless only `unixSocket` was asked for). */
  listenTcp: boolean;
  /** Absolute path of the Unix socket, or `undefined`. */
  unixSocket: string | undefined;
  allowHosts: readonly string[];
  allowOrigins: readonly string[];
  connectorLimit: number;
  maxIdlePerAgent: number;
  timeoutMs: number;
  maxTimeoutMs: number;
  logLevel: LogLevel;
  token: string | undefined;
  shutdownGraceMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  healthConcurrency: number;
  watchHostfile: boolean;
  metricsAgentLabel: boolean;
  releaseIdleHeap: boolean;
  logSink: LogSink;
  clusterWorker: { index: number; count: number } | undefined;
}

const INTEGER_TEXT = /^\+?[0-9]+$/;
const DECIMAL_TEXT = /^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

function invalid(flag: string, value: unknown, expected: string): InvalidOptionError {
  return new InvalidOptionError(
    `invalid value ${describeValue(value)} for ${flag}: expected ${expected}`,
  );
}

function toNumber(value: number | string, pattern: RegExp): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || !pattern.test(value.trim())) return Number.NaN;
  return Number(value.trim());
}

function resolveInteger(
  flag: string,
  value: number | string | undefined,
  fallback: number,
  minimum: number,
  maximum: number,
): number {
  if (value === undefined) return fallback;
  const number = toNumber(value, INTEGER_TEXT);
  if (!Number.isInteger(number) || number < minimum || number > maximum) {
    throw invalid(flag, value, `an integer from ${minimum} to ${maximum}`);
  }
  return number;
}

function resolveSeconds(
  flag: string,
  value: number | string | undefined,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  const seconds = toNumber(value, DECIMAL_TEXT);
  const tooSmall = allowZero ? seconds < 0 : seconds <= 0;
  if (!Number.isFinite(seconds) || tooSmall || seconds > MAX_TIMEOUT_SECONDS) {
    throw invalid(
      flag,
      value,
      `a ${allowZero ? 'non-negative' : 'positive'} number of seconds, at most ${MAX_TIMEOUT_SECONDS}`,
    );
  }
  return seconds;
}

function resolveBoolean(flag: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(flag, value, 'true or false');
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function resolveList(
  flag: string,
  value: readonly string[] | undefined,
  parse: (item: unknown) => string,
): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(flag, value, 'a list of strings');
  return Object.freeze([...new Set(value.map(parse))]);
}

function resolveUnixSocket(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) {
    throw invalid('--unix', value, 'the path of a socket file, e.g. ~/.aurora-swarm/proxy.sock');
  }
  return resolvePath(value);
}

function writeToStderr(line: string): void {
  process.stderr.write(line);
}

/**
 * Validate proxy options and apply defaults and environment variables
 * (`AURORA_SWARM_HOSTFILE`, `AURORA_SWARM_PROXY_TOKEN`). Pure: never mutates `options`.
 * Explicit options win over the environment.
 *
 * @throws {InvalidOptionError} quoting the flag, the value and what was expected.
 */
export function resolveProxyOptions(
  options: ProxyOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedProxyOptions {
  const endpoints = options.endpoints;
  let hostfile: string | undefined;
  if (endpoints === undefined) {
    hostfile = nonEmpty(options.hostfile) ?? nonEmpty(env[HOSTFILE_ENV_VAR]);
    if (hostfile === undefined) {
      throw new InvalidOptionError(
        `no hostfile given: pass --hostfile PATH (-f PATH) or set ${HOSTFILE_ENV_VAR}`,
      );
    }
  } else if (!Array.isArray(endpoints)) {
    throw invalid('endpoints', endpoints, 'an array of agent endpoints');
  }

  const host = options.host ?? DEFAULT_PROXY_HOST;
  if (typeof host !== 'string' || host.trim() === '') {
    throw invalid('--host', host, 'an address such as 0.0.0.0 or 127.0.0.1');
  }

  const logLevelText = options.logLevel ?? DEFAULT_LOG_LEVEL;
  const logLevel = typeof logLevelText === 'string' ? parseLogLevel(logLevelText) : undefined;
  if (logLevel === undefined) {
    throw invalid('--log-level', logLevelText, 'one of DEBUG, INFO, WARNING, ERROR, CRITICAL');
  }

  const token = options.token ?? nonEmpty(env[PROXY_TOKEN_ENV_VAR]);
  if (token !== undefined && (typeof token !== 'string' || !TOKEN_TEXT.test(token))) {
    throw new InvalidOptionError(
      `invalid value for --token (or ${PROXY_TOKEN_ENV_VAR}): expected a non-empty string of visible ASCII characters without spaces`,
    );
  }

  const timeoutSeconds = resolveSeconds(
    '--timeout',
    options.timeoutSeconds,
    DEFAULT_TIMEOUT_SECONDS,
  );
  const maxTimeoutSeconds = resolveSeconds(
    '--max-timeout',
    options.maxTimeoutSeconds,
    MAX_TIMEOUT_SECONDS,
  );
  if (maxTimeoutSeconds < timeoutSeconds) {
    throw new InvalidOptionError(
      `invalid value ${describeValue(options.maxTimeoutSeconds)} for --max-timeout: expected at least --timeout (${timeoutSeconds})`,
    );
  }

  if (options.logSink !== undefined && typeof options.logSink !== 'function') {
    throw invalid('logSink', options.logSink, 'a function');
  }

  const unixSocket = resolveUnixSocket(options.unixSocket);

  return {
    hostfile,
    endpoints,
    host: host.trim(),
    port: resolveInteger('--port', options.port, DEFAULT_PROXY_PORT, 0, 65535),
    listenTcp: unixSocket === undefined || options.host !== undefined || options.port !== undefined,
    unixSocket,
    allowHosts: resolveList('--allow-host', options.allowHosts, parseAllowedHost),
    allowOrigins: resolveList('--allow-origin', options.allowOrigins, parseAllowedOrigin),
    connectorLimit: resolveInteger(
      '--connector-limit',
      options.connectorLimit,
      DEFAULT_CONNECTOR_LIMIT,
      1,
      1_000_000,
    ),
    maxIdlePerAgent: resolveInteger(
      '--max-idle-per-agent',
      options.maxIdlePerAgent,
      DEFAULT_MAX_IDLE_PER_AGENT,
      0,
      1_000_000,
    ),
    timeoutMs: timeoutSeconds * 1000,
    maxTimeoutMs: maxTimeoutSeconds * 1000,
    logLevel,
    token,
    shutdownGraceMs:
      resolveSeconds(
        '--shutdown-grace',
        options.shutdownGraceSeconds,
        DEFAULT_SHUTDOWN_GRACE_SECONDS,
        true,
      ) * 1000,
    healthIntervalMs:
      resolveSeconds(
        '--health-interval',
        options.healthIntervalSeconds,
        DEFAULT_HEALTH_INTERVAL_SECONDS,
        true,
      ) * 1000,
    healthTimeoutMs:
      resolveSeconds(
        '--health-timeout',
        options.healthTimeoutSeconds,
        DEFAULT_HEALTH_TIMEOUT_SECONDS,
      ) * 1000,
    unhealthyThreshold: resolveInteger(
      '--unhealthy-threshold',
      options.unhealthyThreshold,
      DEFAULT_UNHEALTHY_THRESHOLD,
      1,
      1_000,
    ),
    healthyThreshold: resolveInteger(
      '--healthy-threshold',
      options.healthyThreshold,
      DEFAULT_HEALTHY_THRESHOLD,
      1,
      1_000,
    ),
    healthConcurrency: resolveInteger(
      '--health-concurrency',
      options.healthConcurrency,
      DEFAULT_HEALTH_CONCURRENCY,
      1,
      10_000,
    ),
    watchHostfile: resolveBoolean('watchHostfile', options.watchHostfile, true),
    metricsAgentLabel: resolveBoolean('metricsAgentLabel', options.metricsAgentLabel, true),
    releaseIdleHeap: resolveBoolean('releaseIdleHeap', options.releaseIdleHeap, true),
    logSink: options.logSink ?? writeToStderr,
    ...resolveProxyLimits(options),
    clusterWorker: options.clusterWorker,
  };
}
