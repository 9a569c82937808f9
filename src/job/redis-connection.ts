/**
 * The connections of a shared job to Redis (node-redis, `@redis/client`).
 *
 * Two rules shape this file. Before the first successful connection every problem is a
 * one-line `RedisJobError` thrown at once (a malformed URL, nothing listening, a refused
 * password): the user typed something wrong and must hear it before anything is written.
 * After it, a lost connection is an outage to wait out: node-redis reconnects with backoff,
 * commands issued meanwhile wait in its offline queue, commands cut by the disconnect are
 * retried by {@link JobConnection.retry} (every job operation is idempotent), and the
 * outage is reported once through `onOutage`, not once per reconnection attempt.
 */
import type { RedisClientOptions } from '@redis/client';
import { AbortedError, RedisJobError } from '../errors.js';
import { errorCode } from '../pool/describe-failure.js';
import { jobScripts } from './job-scripts.js';
import { redisClient } from './redis-client.js';

/** Environment variable with the Redis URL when no `url` (or `--redis`) is given. */
export const REDIS_URL_ENV_VAR = 'AURORA_SWARM_REDIS_URL';
/** Environment variable with the Redis password when the URL has none (keeps it out of `ps`). */
export const REDIS_PASSWORD_ENV_VAR = 'AURORA_SWARM_REDIS_PASSWORD';
/** How long the first connection may take before the URL is reported unreachable, in milliseconds. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** Longest pause between two reconnection attempts during an outage, in milliseconds. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

/** What `onOutage` is told: the connection was lost (once per outage), or it is back. */
export type RedisOutageEvent =
  | { phase: 'lost'; reason: string }
  | { phase: 'back'; downMs: number };

/** Options of {@link JobConnection.open}. */
export interface JobConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). */
  url: string;
  /** Password, when the URL carries none. */
  password?: string;
  /** Time allowed for the first connection, in milliseconds. @default DEFAULT_REDIS_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number;
  /** Told when the connection is lost after it worked, and when it is back. */
  onOutage?(event: RedisOutageEvent): void;
}

function createJobClient(options: RedisClientOptions, isStarted: () => boolean) {
  return redisClient().createClient({
    ...options,
    scripts: jobScripts(),
    socket: {
      ...options.socket,
      // Before the first success a failure is the user's mistake: report it, do not retry.
      reconnectStrategy: (retries: number, cause: Error) =>
        isStarted() ? Math.min(100 * 2 ** retries, MAX_RECONNECT_DELAY_MS) : cause,
    },
  });
}

/** A node-redis client with the job's Lua scripts. */
export type JobRedisClient = ReturnType<typeof createJobClient>;

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Check a Redis URL's shape.
 * @throws {RedisJobError} `ERR_REDIS_URL`, with the expected form.
 */
export function assertRedisUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') ||
    parsed.hostname === '' ||
    !/^(\/\d*)?$/.test(parsed.pathname)
  ) {
    throw new RedisJobError(
      'ERR_REDIS_URL',
      `bad Redis URL ${JSON.stringify(redactRedisUrl(url) === '(unparseable URL)' ? url.replace(/:[^:@/]*@/, ':***@') : redactRedisUrl(url))}: expected redis://[:password@]host[:port][/db], e.g. redis://127.0.0.1:6379`,
    );
  }
}

/** Whether an error is the connection going away (retry after reconnecting), not a bad command. */
export function isConnectionError(error: unknown): boolean {
  const {
    ClientOfflineError,
    ConnectionTimeoutError,
    SocketClosedUnexpectedlyError,
    SocketTimeoutError,
  } = redisClient();
  if (
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ClientOfflineError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketTimeoutError
  ) {
    return true;
  }
  const message = error instanceof Error ? error.message : '';
  // A restarted Redis answers LOADING while it replays its append-only file.
  if (/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN)\b/.test(message)) return true;
  const code = errorCode(error);
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE';
}

function describeConnectFailure(failure: unknown, label: string): RedisJobError {
  const { ConnectionTimeoutError, ReconnectStrategyError } = redisClient();
  // The reconnect strategy refused to retry: the reason is the error it was given.
  const error = failure instanceof ReconnectStrategyError ? failure.originalError : failure;
  const message = error instanceof Error ? error.message : String(error);
  if (/^WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return new RedisJobError(
      'ERR_REDIS_AUTH',
      `Redis at ${label} refused the password (${message.replace(/\.$/, '')})`,
      { cause: error },
    );
  }
  if (/^NOAUTH/.test(message)) {
    return new RedisJobError(
      'ERR_REDIS_AUTH',
      `Redis at ${label} requires a password: put it in the URL (redis://:PASSWORD@host:port) or in ${REDIS_PASSWORD_ENV_VAR}`,
      { cause: error },
    );
  }
  const code = errorCode(error);
  const reason =
    code === 'ECONNREFUSED'
      ? 'connection refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'unknown host'
        : error instanceof ConnectionTimeoutError
          ? 'no answer in time'
          : message;
  return new RedisJobError(
    'ERR_REDIS_UNREACHABLE',
    `cannot connect to Redis at ${label}: ${reason} (is redis-server running there? is the SSH tunnel up?)`,
    { cause: error },
  );
}

/** Tracks whether any of the job's connections is down, so that one outage is one report. */
class OutageTracker {
  readonly #down = new Set<JobRedisClient>();
  readonly listeners = new Set<(event: RedisOutageEvent) => void>();
  #since = 0;
  readonly #waiters = new Set<() => void>();

  #emit(event: RedisOutageEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  get isDown(): boolean {
    return this.#down.size > 0;
  }

  lost(client: JobRedisClient, error: unknown): void {
    if (this.#down.has(client)) return;
    const first = this.#down.size === 0;
    this.#down.add(client);
    if (!first) return;
    this.#since = performance.now();
    const code = errorCode(error);
    const reason = code ?? (error instanceof Error ? error.message : String(error));
    this.#emit({ phase: 'lost', reason });
  }

  back(client: JobRedisClient): void {
    if (!this.#down.delete(client) || this.#down.size > 0) return;
    this.#emit({ phase: 'back', downMs: performance.now() - this.#since });
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves when no connection is down (at once if none is). */
  whenUp(signal?: AbortSignal): Promise<void> {
    if (!this.isDown) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters.delete(wake);
        reject(new AbortedError('stopped while Redis was unreachable'));
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(wake);
    });
  }
}

/** The connections of one process to the Redis of a shared job. */
export class JobConnection {
  /** The URL without its password, for messages. */
  readonly label: string;
  /** Commands (never blocking ones: they would hold every other command behind them). */
  readonly client: JobRedisClient;
  readonly #options: RedisClientOptions;
  readonly #tracker: OutageTracker;
  #blocking: Promise<JobRedisClient> | undefined;
  #started = false;
  #closed = false;

  private constructor(
    client: JobRedisClient,
    options: RedisClientOptions,
    tracker: OutageTracker,
    label: string,
  ) {
    this.client = client;
    this.#options = options;
    this.#tracker = tracker;
    this.label = label;
  }

  /**
   * Connect and check that Redis answers (and accepts the password).
   * @throws {RedisJobError} `ERR_REDIS_URL`, `ERR_REDIS_UNREACHABLE` or `ERR_REDIS_AUTH`.
   */
  static async open(options: JobConnectionOptions): Promise<JobConnection> {
    assertRedisUrl(options.url);
    const label = redactRedisUrl(options.url);
    const clientOptions: RedisClientOptions = {
      url: options.url,
      socket: { connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS },
    };
    if (options.password !== undefined && new URL(options.url).password === '') {
      clientOptions.password = options.password;
    }
    const tracker = new OutageTracker();
    if (options.onOutage) tracker.listeners.add(options.onOutage);
    let started = false;
    const client = createJobClient(clientOptions, () => started);
    const connection = new JobConnection(client, clientOptions, tracker, label);
    connection.#watch(client);
    try {
      await client.connect();
      await client.ping();
    } catch (error) {
      // A failed first connection may have closed the client already.
      if (client.isOpen) client.destroy();
      throw describeConnectFailure(error, label);
    }
    started = true;
    connection.#started = true;
    return connection;
  }

  #watch(client: JobRedisClient): void {
    // node-redis emits 'error' for every failed reconnection attempt; without a listener
    // the process would crash. The tracker turns the stream into one report per outage.
    client.on('error', (error: unknown) => {
      if (this.#started && !this.#closed) this.#tracker.lost(client, error);
    });
    client.on('ready', () => this.#tracker.back(client));
  }

  /** A second connection for blocking reads (XREADGROUP/XREAD with BLOCK), opened once. */
  blocking(): Promise<JobRedisClient> {
    this.#blocking ??= (async () => {
      const client = createJobClient(this.#options, () => true);
      this.#watch(client);
      await this.retry(() => client.connect().then(() => undefined));
      return client;
    })();
    return this.#blocking;
  }

  /** Also tell `listener` about outages, until the returned function is called. */
  onOutage(listener: (event: RedisOutageEvent) => void): () => void {
    this.#tracker.listeners.add(listener);
    return () => this.#tracker.listeners.delete(listener);
  }

  /** Whether a connection is down right now. */
  get isDown(): boolean {
    return this.#tracker.isDown;
  }

  /**
   * Run `operation`, and when the connection drops under it, wait for Redis to be back and
   * run it again. Only for idempotent operations (all of a job's are).
   */
  async retry<T>(operation: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (;;) {
      try {
        return await operation();
      } catch (error) {
        if (this.#closed || !isConnectionError(error)) throw error;
        if (signal?.aborted) throw new AbortedError('stopped while Redis was unreachable');
        if (!this.#tracker.isDown) {
          // LOADING and friends: the socket is up but Redis cannot answer yet.
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await this.#tracker.whenUp(signal);
      }
    }
  }

  /** Resolves when no connection is down. */
  whenUp(signal?: AbortSignal): Promise<void> {
    return this.#tracker.whenUp(signal);
  }

  /** Close every connection (pending commands are sent first when Redis is up). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const clients = [this.client];
    if (this.#blocking) clients.push(await this.#blocking.catch(() => this.client));
    for (const client of new Set(clients)) {
      if (this.#tracker.isDown || !client.isReady) client.destroy();
      else await client.close().catch(() => client.destroy());
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
