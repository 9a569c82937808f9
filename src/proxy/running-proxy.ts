/**
 * The public face of a started proxy (what `startProxy` resolves with); implemented
 * by `ProxyServer` (proxy-server.ts).
 */
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';

/** A proxy started by {@link startProxy}. */
export interface RunningProxy {
  /**
   * Base URL to reach the proxy from this machine, e.g. `http://127.0.0.1:9090`;
   * `unix:/path/proxy.sock` when it listens on a Unix socket only (pools accept both).
   */
  readonly url: string;
  /** The address it is bound to, as given (`0.0.0.0` by default). */
  readonly host: string;
  /** The TCP port it listens on (the real one when 0 was asked for); 0 on a Unix socket only. */
  readonly port: number;
  /** The Unix socket it listens on (`unixSocket`, absolute), or `undefined`. */
  readonly socketPath: string | undefined;
  /** The agents now (a reload replaces the list), index = the `{index}` of `/agent/{index}/...`. */
  readonly endpoints: readonly AgentEndpoint[];
  /**
   * Switch to a new agent list: `endpoints` when given, else the hostfile read
   * again. Indices follow the new list; requests in flight finish with the agent
   * they started with; agents whose `host:port` stays keep their health and
   * counters. Logs `Reloaded hostfile — N agent(s) ...` and resolves with the new
   * list. An empty list or a malformed hostfile is rejected (logged, and thrown)
   * and the old list kept.
   * @throws {HostfileError} malformed (`path:line`), unreadable or empty hostfile.
   * @throws {InvalidOptionError} without `endpoints` when the proxy was started without a hostfile.
   */
  reload(endpoints?: readonly AgentEndpoint[]): Promise<readonly AgentEndpoint[]>;
  /**
   * Probe every agent's `/health` now and resolve when the round is over (a round
   * already running is awaited first). Nothing happens when health checking is off.
   */
  checkHealth(): Promise<void>;
  /**
   * Stop accepting connections, let in-flight requests finish for up to
   * `graceMs` (then cut them), close upstream connections and log `Proxy shut down`.
   * Idempotent: later calls return the same promise; a later `close(0)` cuts the
   * grace period short.
   * @param graceMs @default the `shutdownGraceSeconds` option, in milliseconds
   */
  close(graceMs?: number): Promise<void>;
  /**
   * Stop at once: refuse new connections, cut every request in flight (their
   * upstream requests are aborted with them) and every idle connection, close the
   * upstream connections and log `Proxy shut down`. The same as `close(0)`; during a
   * graceful `close()` it cuts the grace period short. Idempotent.
   */
  destroy(): Promise<void>;
  /** `await using proxy = await startProxy(...)`: a graceful {@link close} at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}
