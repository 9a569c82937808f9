/**
 * The flags of `aurora-swarm-proxy` (and `aurora-swarm proxy`), as in the usage
 * guide, and how their values become `startProxy` options (passed through as text:
 * resolveProxyOptions validates them, so the CLI and the API give the same errors).
 */
import { homedir } from 'node:os';
import { type Command, Option } from 'commander';
import { PROXY_TOKEN_FILE_ENV_VAR } from '../../internal/proxy-token-file.js';
import {
  DEFAULT_BODY_IDLE_TIMEOUT_SECONDS,
  DEFAULT_HEADERS_TIMEOUT_SECONDS,
  DEFAULT_MAX_BODY_SIZE_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_SIZE_BYTES,
} from '../../proxy/guards/proxy-limits.js';
import { DEFAULT_PROXY_WORKERS } from '../../proxy/proxy-cluster.js';
import { DEFAULT_MAX_IDLE_PER_AGENT } from '../../proxy/proxy-constants.js';
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
  type ProxyOptions,
} from '../../proxy/proxy-options.js';

/** Flag values as commander hands them over (raw text unless defaulted). */
export interface ProxyFlags {
  hostfile?: string;
  /** `undefined` only after {@link withoutDefaultTcp}. */
  host: string | undefined;
  /** `undefined` only after {@link withoutDefaultTcp}. */
  port: string | number | undefined;
  unix?: string;
  allowHost: string[];
  allowOrigin: string[];
  tokenFile?: string;
  pidFile?: string;
  connectorLimit: string | number;
  maxIdlePerAgent: string | number;
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

/** The value `--token` takes to generate (or reuse) a token kept in the token file. */
export const AUTO_TOKEN = 'auto';

/** `~/x` as the shell would expand it (commander sees `--unix=~/x` unexpanded). */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Add every proxy flag to `command`. */
export function addProxyFlags(command: Command): Command {
  return command
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
        '--unix <path>',
        'listen on this Unix-domain socket, mode 0600: only you can connect (a shared login node); the laptop reaches it with ssh -L 9090:PATH user@login-node; no TCP port unless --host or --port is given too',
      ).argParser(expandHome),
    )
    .option(
      '--allow-host <name>',
      'also answer requests whose Host is NAME (a gateway or alias in front); repeatable; .example.org for every name under it, * to turn the Host check off',
      collect,
      [],
    )
    .option(
      '--allow-origin <origin>',
      'let web pages of ORIGIN (e.g. https://notebooks.example.org) call the proxy; repeatable; * for any; other pages are refused with 403',
      collect,
      [],
    )
    .addOption(
      new Option(
        '--connector-limit <count>',
        'maximum simultaneous outbound connections to the agents, all together; further requests wait their turn',
      ).default(DEFAULT_CONNECTOR_LIMIT),
    )
    .addOption(
      new Option(
        '--max-idle-per-agent <count>',
        'most idle keep-alive connections kept open to each agent (0: a new connection per request); idle ones close after 4 s anyway',
      ).default(DEFAULT_MAX_IDLE_PER_AGENT),
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
      `require "Proxy-Authorization: Bearer <token>" on every route but /health; "${AUTO_TOKEN}" uses the token of --token-file, generating one (mode 0600) if there is none; falls back to the ${PROXY_TOKEN_ENV_VAR} environment variable (preferred to a literal token: a flag shows in ps)`,
    )
    .addOption(
      new Option(
        '--token-file <path>',
        `where --token ${AUTO_TOKEN} keeps its token, read by the CLI and the pools when ${PROXY_TOKEN_ENV_VAR} is unset (default: ~/.aurora-swarm/proxy-token, or ${PROXY_TOKEN_FILE_ENV_VAR}); alone, it means --token ${AUTO_TOKEN}`,
      ).argParser(expandHome),
    )
    .addOption(
      new Option(
        '--pid-file <path>',
        'write the process id to this file once listening (removed on a clean exit): kill -HUP $(cat PATH) reloads the hostfile',
      ).argParser(expandHome),
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
    );
}

/**
 * With `--unix`, the TCP port is opened only when `--host` or `--port` is given:
 * `explicit` says which flags the user gave (commander's value sources).
 */
export function withoutDefaultTcp(
  flags: ProxyFlags,
  explicit: (flag: 'host' | 'port') => boolean,
): ProxyFlags {
  if (flags.unix === undefined) return flags;
  return {
    ...flags,
    host: explicit('host') ? flags.host : undefined,
    port: explicit('port') ? flags.port : undefined,
  };
}

/** The `startProxy` options the flags stand for (`--token auto` already resolved). */
export function proxyOptionsFrom(flags: ProxyFlags): ProxyOptions {
  return {
    hostfile: flags.hostfile,
    host: flags.host,
    port: flags.port,
    unixSocket: flags.unix,
    allowHosts: flags.allowHost,
    allowOrigins: flags.allowOrigin,
    connectorLimit: flags.connectorLimit,
    maxIdlePerAgent: flags.maxIdlePerAgent,
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
