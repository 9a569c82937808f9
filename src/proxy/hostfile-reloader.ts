/**
 * Reloading the agent list of a running proxy: from the hostfile (on `reload()`,
 * SIGHUP in the CLI, or a change on disk) or from a list given in code. A new list
 * that is malformed, empty or unreadable is rejected — logged, counted and thrown
 * — and the old one kept: an empty file is far more often a half-written one than
 * a wish to drop the whole swarm.
 */
import { HostfileError, InvalidOptionError } from '../errors.js';
import type { AgentEndpoint } from '../hostfile/agent-endpoint.js';
import { parseHostfile } from '../hostfile/parse-hostfile.js';
import type { TargetChanges } from './agents/agent-targets.js';
import { HostfileWatcher } from './hostfile-watcher.js';
import type { ProxyLogger } from './proxy-logger.js';
import type { ProxyMetrics } from './proxy-metrics.js';

/** Read a hostfile that must list at least one agent. */
function readNonEmptyHostfile(path: string): readonly AgentEndpoint[] {
  const endpoints = parseHostfile(path);
  if (endpoints.length === 0) {
    throw new HostfileError('ERR_HOSTFILE_EMPTY', `No endpoints found in hostfile ${path}`, {
      path,
    });
  }
  return endpoints;
}

/**
 * The agents a proxy starts with: `endpoints` when given (they must not be empty),
 * else the hostfile read with {@link readNonEmptyHostfile}.
 * @throws {HostfileError} `ERR_HOSTFILE_EMPTY` for an empty list, or the hostfile's error.
 */
export function loadAgentList(
  endpoints: readonly AgentEndpoint[] | undefined,
  hostfile: string | undefined,
): readonly AgentEndpoint[] {
  if (endpoints === undefined) return readNonEmptyHostfile(hostfile as string);
  if (endpoints.length === 0) {
    throw new HostfileError(
      'ERR_HOSTFILE_EMPTY',
      'No endpoints found: the endpoint list is empty',
      {
        path: '<endpoints>',
      },
    );
  }
  return endpoints;
}

function sameEndpoints(a: readonly AgentEndpoint[], b: readonly AgentEndpoint[]): boolean {
  return (
    a.length === b.length &&
    a.every((endpoint, index) => {
      const other = b[index] as AgentEndpoint;
      return (
        endpoint.url === other.url && JSON.stringify(endpoint.tags) === JSON.stringify(other.tags)
      );
    })
  );
}

/** What the reloader works on. */
export interface HostfileReloaderOptions {
  /** The hostfile, when the proxy was started from one. */
  readonly hostfile: string | undefined;
  /** Reload when the file changes on disk. */
  readonly watch: boolean;
  readonly logger: ProxyLogger;
  readonly metrics: ProxyMetrics;
  /** The agent list in use. */
  readonly current: () => readonly AgentEndpoint[];
  /** Switch to `next`; returns what changed. */
  readonly apply: (next: readonly AgentEndpoint[]) => TargetChanges;
}

/** Reloads on demand, and on file changes when watching. */
export class HostfileReloader {
  readonly #options: HostfileReloaderOptions;
  #watcher: HostfileWatcher | undefined;
  #closed = false;

  constructor(options: HostfileReloaderOptions) {
    this.#options = options;
  }

  /** Start watching the hostfile, when there is one and `watch` is set. Idempotent. */
  startWatching(): void {
    const { hostfile, watch } = this.#options;
    if (this.#closed || this.#watcher !== undefined || hostfile === undefined || !watch) return;
    // A change on disk reloads only when the agent list really changed (editors and
    // `touch` make events without changes), and rejections are logged, not thrown.
    this.#watcher = new HostfileWatcher(hostfile, () => {
      this.reload(undefined, true).catch(() => undefined);
    });
  }

  /**
   * Switch to `next`, or to the hostfile read again. With `onlyIfChanged`, a file
   * listing the same agents is not applied (nor logged).
   * @throws {HostfileError} malformed, unreadable or empty hostfile (logged first).
   * @throws {InvalidOptionError} empty `next`, or no `next` without a hostfile.
   */
  async reload(
    next?: readonly AgentEndpoint[],
    onlyIfChanged = false,
  ): Promise<readonly AgentEndpoint[]> {
    const { current, hostfile } = this.#options;
    if (this.#closed) return current();
    if (next !== undefined) {
      if (!Array.isArray(next) || next.length === 0) {
        this.#reject(
          new InvalidOptionError('reload(endpoints): expected a non-empty array of endpoints'),
        );
      }
      this.#apply(next, '<endpoints>');
      return current();
    }
    if (hostfile === undefined) {
      throw new InvalidOptionError(
        'reload(): the proxy was started with endpoints, not a hostfile; pass the new endpoints',
      );
    }
    let read: readonly AgentEndpoint[];
    try {
      read = readNonEmptyHostfile(hostfile);
    } catch (error) {
      return this.#reject(error);
    }
    if (!(onlyIfChanged && sameEndpoints(read, current()))) this.#apply(read, hostfile);
    return current();
  }

  /** Stop watching; later reloads do nothing (and watching does not start). */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
  }

  #apply(next: readonly AgentEndpoint[], source: string): void {
    const changes = this.#options.apply(next);
    this.#options.metrics.reloadsApplied++;
    this.#options.logger.info(
      `Reloaded hostfile — ${next.length} agent(s) (${changes.added} added, ${changes.removed} removed, ${changes.kept} kept) from ${source}`,
    );
  }

  #reject(error: unknown): never {
    this.#options.metrics.reloadsRejected++;
    const reason = error instanceof Error ? error.message : String(error);
    this.#options.logger.error(
      `Hostfile reload rejected, keeping the ${this.#options.current().length} agent(s) already loaded: ${reason}`,
    );
    throw error;
  }
}
