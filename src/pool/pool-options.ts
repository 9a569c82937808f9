/**
 * Options shared by every pool (`AgentPool`, `VLLMPool`, `EmbeddingPool`), their
 * defaults, and the one function that validates them and reads the environment.
 */
import { InvalidOptionError } from '../errors.js';
import { type AgentEndpoint, createEndpoint } from '../hostfile/agent-endpoint.js';
import { describeValue } from '../internal/describe-value.js';
import {
  defaultProxyTokenFile,
  PROXY_TOKEN_FILE_ENV_VAR,
  readProxyTokenFile,
} from '../internal/proxy-token-file.js';
import { isUnixProxyUrl, unixProxyUrl, unixSocketPathOf } from '../internal/unix-proxy-url.js';

/** Maximum simultaneous requests of a pool and all its sub-pools together. */
export const DEFAULT_CONCURRENCY = 512;
/** Maximum simultaneous connections in use (and per-origin pool size). */
export const DEFAULT_POOL_CONNECTOR_LIMIT = 1024;
/** `AgentPool` call timeout: 120 s. */
export const DEFAULT_AGENT_POOL_TIMEOUT_MS = 120_000;
/** Retries after a connection failure or a 502/503, before giving up. */
export const DEFAULT_MAX_RETRIES = 3;
/** First retry delay; doubles per retry, with jitter. */
export const DEFAULT_RETRY_DELAY_MS = 250;
/** Consecutive connection failures of one agent that open its circuit breaker. */
export const DEFAULT_BREAKER_FAILURES = 3;
/** How long an open circuit breaker refuses calls before one trial call is let through: 5 s. */
export const DEFAULT_BREAKER_COOLDOWN_MS = 5_000;
/** Environment variable naming the proxy when `proxyUrl` is not given. */
export const PROXY_URL_ENV_VAR = 'AURORA_SWARM_PROXY_URL';
/** Environment variable holding the proxy's shared token when `proxyToken` is not given. */
export const POOL_PROXY_TOKEN_ENV_VAR = 'AURORA_SWARM_PROXY_TOKEN';
/** Environment variable naming the file that holds the proxy's token (`--token auto`). */
export { PROXY_TOKEN_FILE_ENV_VAR };

/** Environment as the resolve functions read it (defaults to `process.env`). */
export type PoolEnvironment = Readonly<Record<string, string | undefined>>;

/** Options every pool accepts. */
export interface PoolOptions {
  /** The agents, in hostfile order (the array index is the agent's global index). */
  endpoints: readonly AgentEndpoint[];
  /** Maximum simultaneous requests, shared by this pool and every sub-pool made from it. @default 512 */
  concurrency?: number;
  /**
   * Maximum connections in use at once; requests beyond it wait their turn. Also the
   * per-origin connection pool size (the proxy in proxy mode, each agent otherwise).
   * @default 1024
   */
  connectorLimit?: number;
  /**
   * Timeout of one attempt of a call in milliseconds, counted from the moment the call
   * holds a concurrency slot (time spent queued does not count). Sent to the proxy as
   * `X-Timeout` in seconds. @default 120000 (AgentPool), 300000 (VLLMPool), 60000 (EmbeddingPool)
   */
  timeoutMs?: number;
  /**
   * Route every request through this `aurora-swarm-proxy`, as
   * `{proxyUrl}/agent/{globalIndex}/...`: `http://localhost:9090`, or
   * `unix:/home/me/.aurora-swarm/proxy.sock` for a proxy started with `--unix` (on the
   * same machine). When omitted (`undefined`), the `AURORA_SWARM_PROXY_URL`
   * environment variable is used if set; `null` forces direct connections even when
   * the variable is set. @default undefined
   */
  proxyUrl?: string | null;
  /**
   * Shared proxy token, sent as `Proxy-Authorization: Bearer <token>` on proxied requests
   * only. @default the `AURORA_SWARM_PROXY_TOKEN` environment variable, else the token
   * in `proxyTokenFile`, else none
   */
  proxyToken?: string;
  /**
   * File holding the proxy's token (what `aurora-swarm-proxy --token auto` writes),
   * read in proxy mode when neither `proxyToken` nor `AURORA_SWARM_PROXY_TOKEN` is set.
   * A file named here must exist; the default one is skipped when absent.
   * @default the `AURORA_SWARM_PROXY_TOKEN_FILE` environment variable, else `~/.aurora-swarm/proxy-token`
   */
  proxyTokenFile?: string;
  /** Extra HTTP headers on every request, e.g. `{ authorization: 'Bearer <vLLM api key>' }`. @default {} */
  headers?: Readonly<Record<string, string>>;
  /** Retries after a connection failure or a 502/503 that arrived before any answer. @default 3 */
  maxRetries?: number;
  /** Base delay before the first retry in milliseconds; doubles per retry, with jitter. @default 250 */
  retryDelayMs?: number;
  /**
   * The circuit breaker of each agent, shared by this pool and every sub-pool made from it:
   * after `failures` consecutive connection failures (refused, reset before any answer,
   * connect timeout; through the proxy, its 502 "cannot connect" about that agent) calls to
   * the agent fail at once with `failureKind: 'unavailable'` for `cooldownMs`, then one
   * trial call is let through and a success closes it. `false` turns it off.
   * @default { failures: 3, cooldownMs: 5000 }
   */
  breaker?: BreakerOptions | false;
}

/** Thresholds of the per-agent circuit breaker (see {@link PoolOptions.breaker}). */
export interface BreakerOptions {
  /** Consecutive connection failures that open an agent's breaker. A positive integer. @default 3 */
  failures?: number;
  /** Milliseconds an open breaker refuses calls before one trial call. @default 5000 */
  cooldownMs?: number;
}

/** Breaker thresholds after validation. */
export interface ResolvedBreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
}

/** Options after validation, defaults and environment applied. */
export interface ResolvedPoolOptions {
  readonly endpoints: readonly AgentEndpoint[];
  readonly concurrency: number;
  readonly connectorLimit: number;
  readonly timeoutMs: number;
  /**
   * Proxy base URL without a trailing slash (`unix:/abs/path` for a socket), or
   * `undefined` for direct connections.
   */
  readonly proxyUrl: string | undefined;
  /** The proxy's Unix socket when `proxyUrl` is a `unix:` address, else `undefined`. */
  readonly proxySocketPath: string | undefined;
  readonly proxyToken: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  /** `undefined` when the breaker is turned off. */
  readonly breaker: ResolvedBreakerOptions | undefined;
}

/**
 * Validate the common pool options and apply defaults and environment fallbacks.
 * Never mutates `options`; the outside inputs are `env` and, in proxy mode without a
 * token, the token file (`proxyTokenFile`).
 *
 * @throws {InvalidOptionError} naming the option, the value and what was expected.
 */
export function resolvePoolOptions(
  options: PoolOptions,
  defaultTimeoutMs: number,
  env: PoolEnvironment,
): ResolvedPoolOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `pool options: expected an object with at least { endpoints }, got ${describeValue(options)}`,
    );
  }
  const proxyUrl = resolveProxyUrl(options.proxyUrl, env);
  return {
    endpoints: resolveEndpoints(options.endpoints),
    concurrency: positiveInteger('concurrency', options.concurrency, DEFAULT_CONCURRENCY),
    connectorLimit: positiveInteger(
      'connectorLimit',
      options.connectorLimit,
      DEFAULT_POOL_CONNECTOR_LIMIT,
    ),
    timeoutMs: positiveNumber('timeoutMs', options.timeoutMs, defaultTimeoutMs),
    proxyUrl,
    proxySocketPath:
      proxyUrl !== undefined && isUnixProxyUrl(proxyUrl) ? unixSocketPathOf(proxyUrl) : undefined,
    proxyToken:
      proxyUrl === undefined
        ? resolveProxyToken(options.proxyToken, env)
        : (resolveProxyToken(options.proxyToken, env) ??
          tokenFromFile(options.proxyTokenFile, env)),
    headers: resolveHeaders(options.headers),
    maxRetries: nonNegativeInteger('maxRetries', options.maxRetries, DEFAULT_MAX_RETRIES),
    retryDelayMs: nonNegativeNumber('retryDelayMs', options.retryDelayMs, DEFAULT_RETRY_DELAY_MS),
    breaker: resolveBreaker(options.breaker),
  };
}

function resolveBreaker(value: unknown): ResolvedBreakerOptions | undefined {
  if (value === false) return undefined;
  if (value === undefined) {
    return { failures: DEFAULT_BREAKER_FAILURES, cooldownMs: DEFAULT_BREAKER_COOLDOWN_MS };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(
      `option breaker: expected { failures?, cooldownMs? } or false, got ${describeValue(value)}`,
    );
  }
  const { failures, cooldownMs } = value as BreakerOptions;
  return {
    failures: positiveInteger('breaker.failures', failures, DEFAULT_BREAKER_FAILURES),
    cooldownMs: positiveNumber('breaker.cooldownMs', cooldownMs, DEFAULT_BREAKER_COOLDOWN_MS),
  };
}

function resolveEndpoints(value: unknown): readonly AgentEndpoint[] {
  if (!Array.isArray(value)) {
    throw new InvalidOptionError(
      `option endpoints: expected an array of { host, port } (e.g. from parseHostfile), got ${describeValue(value)}`,
    );
  }
  if (value.length === 0) {
    throw new InvalidOptionError(
      'option endpoints: expected at least one agent, got an empty array (is the hostfile empty?)',
    );
  }
  return Object.freeze(
    value.map((endpoint: unknown, index) => {
      const candidate = endpoint as Partial<AgentEndpoint> | null;
      if (
        candidate === null ||
        typeof candidate !== 'object' ||
        typeof candidate.host !== 'string' ||
        candidate.host === '' ||
        !Number.isInteger(candidate.port) ||
        (candidate.port as number) < 1 ||
        (candidate.port as number) > 65535
      ) {
        throw new InvalidOptionError(
          `option endpoints[${index}]: expected { host: non-empty string, port: integer 1-65535 }, got ${describeValue(endpoint)}`,
        );
      }
      if (typeof candidate.url === 'string' && candidate.tags) return candidate as AgentEndpoint;
      return createEndpoint(candidate.host, candidate.port as number, { ...candidate.tags });
    }),
  );
}

function resolveProxyUrl(value: unknown, env: PoolEnvironment): string | undefined {
  if (value === null) return undefined;
  if (value === undefined) {
    const fromEnv = env[PROXY_URL_ENV_VAR];
    if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
    return parseProxyUrl(fromEnv.trim(), `environment variable ${PROXY_URL_ENV_VAR}`);
  }
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidOptionError(
      `option proxyUrl: expected a URL string like "http://localhost:9090" (or null for direct connections), got ${describeValue(value)}`,
    );
  }
  return parseProxyUrl(value.trim(), 'option proxyUrl');
}

function parseProxyUrl(text: string, source: string): string {
  if (isUnixProxyUrl(text)) {
    const socketPath = unixSocketPathOf(text);
    if (socketPath === undefined) {
      throw new InvalidOptionError(
        `${source}: expected a socket path after unix:, like "unix:/home/me/.aurora-swarm/proxy.sock", got ${describeValue(text)}`,
      );
    }
    return unixProxyUrl(socketPath);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionError(
      `${source}: expected a URL like "http://localhost:9090", got ${describeValue(text)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(
      `${source}: expected an http:// or https:// URL (or unix:/path/to/proxy.sock), got ${describeValue(text)}`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidOptionError(
      `${source}: expected a URL without query or fragment, got ${describeValue(text)}`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function resolveProxyToken(value: unknown, env: PoolEnvironment): string | undefined {
  if (value === undefined) {
    const fromEnv = env[POOL_PROXY_TOKEN_ENV_VAR];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  }
  if (typeof value !== 'string' || value === '' || /[\r\n]/.test(value)) {
    throw new InvalidOptionError(
      `option proxyToken: expected a non-empty single-line string, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * The token of the token file (`--token auto` on the proxy): `proxyTokenFile`, else
 * `AURORA_SWARM_PROXY_TOKEN_FILE`, else `~/.aurora-swarm/proxy-token` (skipped when
 * absent). Read once, when the root pool is made.
 */
function tokenFromFile(value: unknown, env: PoolEnvironment): string | undefined {
  if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
    throw new InvalidOptionError(
      `option proxyTokenFile: expected the path of a file holding the proxy's token, got ${describeValue(value)}`,
    );
  }
  const named = (value as string | undefined) ?? (env[PROXY_TOKEN_FILE_ENV_VAR] || undefined);
  const source =
    value !== undefined
      ? 'option proxyTokenFile'
      : `environment variable ${PROXY_TOKEN_FILE_ENV_VAR}`;
  const content = readProxyTokenFile(named ?? defaultProxyTokenFile(env));
  if (content.kind === 'token') return content.token;
  if (content.kind === 'missing') {
    if (named === undefined) return undefined;
    throw new InvalidOptionError(`${source}: the token file ${named} does not exist`);
  }
  throw new InvalidOptionError(
    named === undefined ? content.problem : `${source}: ${content.problem}`,
  );
}

function resolveHeaders(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(
      `option headers: expected an object of header names to string values, got ${describeValue(value)}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== 'string') {
      throw new InvalidOptionError(
        `option headers[${JSON.stringify(name)}]: expected a string, got ${describeValue(headerValue)}`,
      );
    }
    headers[name.toLowerCase()] = headerValue;
  }
  return Object.freeze(headers);
}

/** `value` if it is a positive integer, `fallback` if undefined; throws otherwise. */
export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `option ${name}: expected a positive integer, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `value` if it is an integer ≥ 0, `fallback` if undefined; throws otherwise. */
export function nonNegativeInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidOptionError(
      `option ${name}: expected an integer >= 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `value` if it is a finite number > 0, `fallback` if undefined; throws otherwise. */
export function positiveNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(
      `option ${name}: expected a finite number > 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** `value` if it is a finite number >= 0, `fallback` if undefined; throws otherwise. */
export function nonNegativeNumber(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(
      `option ${name}: expected a finite number >= 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** Parse a positive-integer environment variable, or `undefined` when unset or empty. */
export function integerFromEnv(env: PoolEnvironment, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.trim());
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `environment variable ${name}: expected a positive integer, got ${describeValue(text)}`,
    );
  }
  return value;
}

/** A plain object of extra JSON body fields, or `undefined`; throws for anything else. */
export function extraBodyOption(name: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(
      `option ${name}: expected a plain object of JSON fields, got ${describeValue(value)}`,
    );
  }
  return value as Record<string, unknown>;
}
