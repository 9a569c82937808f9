/**
 * The proxy's connections to the agents: per agent, a pool of undici `Client`s of one
 * connection each (HTTP/1.1, no pipelining), reused last-in first-out so the warm ones
 * stay warm, created lazily on first use (8,000 agents cost nothing until called).
 *
 * Why not undici's `Agent`/`Pool`: two things the proxy needs that they do not do
 * (undici 7.30):
 * - **Abandoning a request closes its connection and nothing else.** When the client of
 *   an exchange leaves, its one connection is destroyed with it. Aborting through
 *   undici's controller instead re-queues the aborted request and opens a fresh
 *   connection for it that carries nothing and then sits idle (nodejs/undici#5845, fix
 *   not released): 300 aborted streams left 300 idle connections at the agents.
 * - **Idle connections are bounded per agent** (`maxIdlePerAgent`): a connection that
 *   finishes its request while that many are already idle is closed at once; the others
 *   close after `keepAliveTimeoutMs` of idleness (or sooner if the agent says so), and
 *   a pool with no connection left holds nothing.
 *
 * Owned by the server, which destroys every connection on shutdown.
 */
import { Client } from 'undici';

/** How the connections to the agents behave. */
export interface ConnectionSettings {
  /** Most idle connections kept per agent. */
  readonly maxIdlePerAgent: number;
  /** How long an idle connection is kept, unless the agent's `Keep-Alive` says less. */
  readonly keepAliveTimeoutMs: number;
  /** Upper bound of a `Keep-Alive: timeout=` the agent sends. */
  readonly keepAliveMaxTimeoutMs: number;
  /** How long a connection attempt may take. */
  readonly connectTimeoutMs: number;
}

// Idle keep-alive sockets are reused for this long unless the agent says less.
const UPSTREAM_KEEP_ALIVE_TIMEOUT_MS = 4_000;
const UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS = 600_000;
const UPSTREAM_CONNECT_TIMEOUT_MS = 10_000;

/** The settings the proxy runs with, given its idle bound. */
export function connectionSettings(maxIdlePerAgent: number): ConnectionSettings {
  return {
    maxIdlePerAgent,
    keepAliveTimeoutMs: UPSTREAM_KEEP_ALIVE_TIMEOUT_MS,
    keepAliveMaxTimeoutMs: UPSTREAM_KEEP_ALIVE_MAX_TIMEOUT_MS,
    connectTimeoutMs: UPSTREAM_CONNECT_TIMEOUT_MS,
  };
}

/** The connections to one agent. */
export class AgentConnections {
  readonly #origin: string;
  readonly #registry: UpstreamConnections;
  /** Connected (or connecting) clients without a request, most recently used last. */
  readonly #idle: Client[] = [];
  /** Clients carrying a request. */
  #busy = 0;
  #retired = false;

  constructor(origin: string, registry: UpstreamConnections) {
    this.#origin = origin;
    this.#registry = registry;
  }

  /** Connections carrying a request. */
  get busy(): number {
    return this.#busy;
  }

  /** Connections kept idle for the next request. */
  get idle(): number {
    return this.#idle.length;
  }

  /** A connection for one request: the most recently used idle one, or a new one. */
  acquire(): Client {
    this.#busy++;
    return this.#idle.pop() ?? this.#registry.createClient(this.#origin, this);
  }

  /**
   * The request on `client` ended cleanly: keep the connection for the next one, unless
   * {@link ConnectionSettings.maxIdlePerAgent} are idle already or the agent was removed.
   */
  release(client: Client): void {
    this.#busy--;
    if (this.#retired || this.#idle.length >= this.#registry.settings.maxIdlePerAgent) {
      this.#registry.forget(client);
      void client.close();
      return;
    }
    this.#idle.push(client);
  }

  /**
   * The request on `client` failed or was abandoned: its connection is destroyed
   * (which fails the request with `reason`, if undici still has it) and not replaced.
   */
  discard(client: Client, reason: Error): void {
    this.#busy--;
    this.#registry.forget(client);
    void client.destroy(reason);
  }

  /** An idle connection's socket closed (keep-alive timeout, or the agent closed it). */
  disconnected(client: Client): void {
    const index = this.#idle.lastIndexOf(client);
    if (index === -1) return; // busy: its request's end or failure decides
    this.#idle.splice(index, 1);
    this.#registry.forget(client);
    void client.destroy();
  }

  /** The agent left the hostfile: close the idle connections now, the busy ones when done. */
  retire(): void {
    this.#retired = true;
    for (const client of this.#idle.splice(0)) {
      this.#registry.forget(client);
      void client.close();
    }
  }
}

const POOL_OF_CLIENT = Symbol('agentConnections');

interface PooledClient extends Client {
  [POOL_OF_CLIENT]: AgentConnections;
}

/**
 * Every connection of the proxy to its agents, for the settings shared by all, and so
 * that shutdown can destroy them all at once.
 */
export class UpstreamConnections {
  readonly settings: ConnectionSettings;
  readonly #clients = new Set<Client>();
  #destroyed = false;

  constructor(settings: ConnectionSettings) {
    this.settings = settings;
  }

  /** The connections of a new agent `origin` (`http://host:port`). */
  forAgent(origin: string): AgentConnections {
    return new AgentConnections(origin, this);
  }

  /** Open connections (idle or busy), all agents together. */
  get size(): number {
    return this.#clients.size;
  }

  /** @internal A new one-connection client to `origin`, for {@link AgentConnections}. */
  createClient(origin: string, pool: AgentConnections): Client {
    const { keepAliveTimeoutMs, keepAliveMaxTimeoutMs, connectTimeoutMs } = this.settings;
    const client = new Client(origin, {
      pipelining: 1,
      keepAliveTimeout: keepAliveTimeoutMs,
      keepAliveMaxTimeout: keepAliveMaxTimeoutMs,
      // The proxy runs its own timers with the semantics of --timeout / X-Timeout.
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: connectTimeoutMs,
    }) as PooledClient;
    client[POOL_OF_CLIENT] = pool;
    client.on('disconnect', onClientDisconnect);
    if (this.#destroyed) void client.destroy();
    else this.#clients.add(client);
    return client;
  }

  /** @internal `client` is closing or destroyed: stop tracking it. */
  forget(client: Client): void {
    this.#clients.delete(client);
  }

  /** Destroy every connection (in-flight requests fail). */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(clients.map((client) => client.destroy()));
  }
}

function onClientDisconnect(this: PooledClient): void {
  this[POOL_OF_CLIENT].disconnected(this);
}
