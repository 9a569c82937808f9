/**
 * The agents as the proxy routes to them, swapped whole on a hostfile reload. Each
 * target carries its counters and health, which follow its `host:port` from one
 * list to the next, so a reload that only adds or reorders lines loses nothing.
 * In-flight requests hold their target object, so removing an agent never
 * disturbs them; its idle connections close at once, the busy ones when their
 * request ends.
 */
import type { AgentEndpoint } from '../../hostfile/agent-endpoint.js';
import type { AgentConnections, UpstreamConnections } from './agent-connections.js';
import { AgentHealth } from './agent-health.js';
import {
  type AgentTagFilter,
  hashText,
  matchesTagFilter,
  type SelectableAgent,
} from './agent-selection.js';
import { AgentStats } from './agent-stats.js';

/** One agent as the forwarder sees it. */
export interface ForwardTarget extends SelectableAgent {
  /** Hostfile index (in the list the target belongs to). */
  readonly index: number;
  /** The hostfile entry. */
  readonly endpoint: AgentEndpoint;
  /** `http://host:port`, the undici origin. */
  readonly origin: string;
  /** `host:port` (IPv6 in brackets), for messages; the identity kept across reloads. */
  readonly authority: string;
  /** Counters reported by `/status`. */
  readonly stats: AgentStats;
  /** What the probes and connection failures say. */
  readonly health: AgentHealth;
  /** The proxy's connections to this agent. */
  readonly connections: AgentConnections;
  /**
   * Responses by status class for this index (`/metrics`): 0 none (the client left
   * first), 1 1xx ... 5 5xx. Owned by the metrics, so counts stay per index.
   */
  readonly statusCounts: number[];
}

/** What a reload changed. */
export interface TargetChanges {
  readonly added: number;
  readonly removed: number;
  readonly kept: number;
}

/** Most tag filters whose candidate lists are cached (they come from request headers). */
const MAX_CACHED_FILTERS = 256;

function createTarget(
  endpoint: AgentEndpoint,
  index: number,
  statusCounts: number[],
  previous: ForwardTarget | undefined,
  upstream: UpstreamConnections,
): ForwardTarget {
  const authority = endpoint.url.slice('http://'.length);
  return {
    index,
    endpoint,
    origin: endpoint.url,
    authority,
    stats: previous?.stats ?? new AgentStats(),
    health: previous?.health ?? new AgentHealth(),
    connections: previous?.connections ?? upstream.forAgent(endpoint.url),
    statusCounts,
    hashSeed: hashText(authority),
  };
}

/** The current agent list, with cached lists of healthy candidates. */
export class AgentTargets {
  readonly #statusCountsFor: (index: number) => number[];
  readonly #upstream: UpstreamConnections;
  #targets: readonly ForwardTarget[] = [];
  #healthy: readonly ForwardTarget[] | undefined;
  readonly #byFilter = new Map<string, readonly ForwardTarget[]>();

  /**
   * @param statusCountsFor The status-class counters of an index (from the metrics).
   * @param upstream Where each agent's connections come from.
   */
  constructor(
    endpoints: readonly AgentEndpoint[],
    statusCountsFor: (index: number) => number[],
    upstream: UpstreamConnections,
  ) {
    this.#statusCountsFor = statusCountsFor;
    this.#upstream = upstream;
    this.replace(endpoints);
  }

  /** Every agent, index = hostfile index. */
  get all(): readonly ForwardTarget[] {
    return this.#targets;
  }

  /** The agents the pooled routes may pick (healthy), in hostfile order. */
  get healthy(): readonly ForwardTarget[] {
    this.#healthy ??= this.#targets.filter((target) => target.health.healthy);
    return this.#healthy;
  }

  /** Healthy agents matching `filter` (all healthy ones without a filter). */
  candidates(filter: AgentTagFilter | undefined): readonly ForwardTarget[] {
    if (filter === undefined) return this.healthy;
    let list = this.#byFilter.get(filter.text);
    if (list === undefined) {
      list = this.healthy.filter((target) => matchesTagFilter(target.endpoint.tags, filter));
      if (this.#byFilter.size >= MAX_CACHED_FILTERS) this.#byFilter.clear();
      this.#byFilter.set(filter.text, list);
    }
    return list;
  }

  /** Whether any agent (healthy or not) matches `filter`. */
  anyMatches(filter: AgentTagFilter): boolean {
    return this.#targets.some((target) => matchesTagFilter(target.endpoint.tags, filter));
  }

  /** Forget the cached candidate lists: an agent's health changed. */
  healthChanged(): void {
    this.#healthy = undefined;
    this.#byFilter.clear();
  }

  /**
   * Switch to a new agent list. Agents whose `host:port` was already listed keep
   * their counters and health (the n-th occurrence of a duplicated `host:port`
   * inherits from the n-th old one).
   */
  replace(endpoints: readonly AgentEndpoint[]): TargetChanges {
    const previous = new Map<string, ForwardTarget[]>();
    for (const target of this.#targets) {
      const list = previous.get(target.authority);
      if (list === undefined) previous.set(target.authority, [target]);
      else list.push(target);
    }
    let kept = 0;
    this.#targets = endpoints.map((endpoint, index) => {
      const old = previous.get(endpoint.url.slice('http://'.length))?.shift();
      if (old !== undefined) kept++;
      return createTarget(endpoint, index, this.#statusCountsFor(index), old, this.#upstream);
    });
    this.healthChanged();
    let removed = 0;
    for (const list of previous.values()) {
      for (const target of list) target.connections.retire();
      removed += list.length;
    }
    return { added: endpoints.length - kept, removed, kept };
  }
}
