/**
 * The body of `GET /status`: the swarm at a glance, for people (`curl`), the
 * `aurora-swarm status` table and scripts. snake_case like the rest of the JSON API;
 * fields are only ever added. The status page asks for the compact form instead
 * (compact-status.ts); both read the totals from here.
 */
import type { AgentStatsJson } from '../agents/agent-stats.js';
import type { AgentTargets, ForwardTarget } from '../agents/agent-targets.js';
import type { ConnectionLimiter } from '../agents/connection-limiter.js';
import type { ProxyMetrics } from '../proxy-metrics.js';

/** One agent in `/status`. */
export interface EndpointStatusJson extends AgentStatsJson {
  index: number;
  host: string;
  port: number;
  tags: Readonly<Record<string, string>>;
  /** Whether the pooled routes may pick it (always true when health checking is off). */
  healthy: boolean;
}

/** The fields of `/status` about the whole proxy (every field but `endpoints`). */
export interface StatusTotalsJson {
  agents: number;
  uptime_seconds: number;
  healthy_agents: number;
  /** Requests holding a connector slot. */
  in_flight: number;
  /** Requests waiting for a connector slot. */
  queued: number;
  connector_limit: number;
  timeout_seconds: number;
  /** Requests forwarded since the start (monotonic; a retried request counts once). */
  requests_total: number;
  /** Whether agents are probed (`--health-interval` > 0). */
  health_checks: boolean;
  /** With `--workers`: which worker answered. */
  worker?: WorkerStatusJson;
}

/** The whole `/status` body. */
export interface ProxyStatusJson extends StatusTotalsJson {
  endpoints: EndpointStatusJson[];
}

/** What `/status` reads. */
export interface StatusSource {
  readonly targets: AgentTargets;
  readonly limiter: ConnectionLimiter;
  readonly metrics: ProxyMetrics;
  readonly uptimeSeconds: () => number;
  readonly timeoutMs: number;
  readonly healthChecks: boolean;
  /** Set in each `--workers` process: the body then says which worker answered. */
  readonly clusterWorker?: { readonly index: number; readonly count: number } | undefined;
}

/** With `--workers`, which worker answered: each answers for itself (its own counters and limit). */
export interface WorkerStatusJson {
  index: number;
  count: number;
  pid: number;
  counters: 'this worker only';
}

/** One agent's entry of `endpoints[]`. */
export function endpointStatus(target: ForwardTarget): EndpointStatusJson {
  const { host, port, tags } = target.endpoint;
  return {
    index: target.index,
    host,
    port,
    tags,
    healthy: target.health.healthy,
    ...target.stats.toJSON(),
  };
}

/**
 * The totals of `/status` now, in the usage guide's order (`agents`, `uptime_seconds`
 * first); `healthyAgents` is counted by the caller, who walks the agents anyway.
 */
export function statusTotals(
  source: StatusSource,
  agents: number,
  healthyAgents: number,
): StatusTotalsJson {
  const totals: StatusTotalsJson = {
    agents,
    uptime_seconds: source.uptimeSeconds(),
    healthy_agents: healthyAgents,
    in_flight: source.limiter.active,
    queued: source.limiter.queued,
    connector_limit: source.limiter.limit,
    timeout_seconds: source.timeoutMs / 1000,
    requests_total: source.metrics.forwarded,
    health_checks: source.healthChecks,
  };
  const worker = source.clusterWorker;
  if (worker !== undefined) {
    totals.worker = {
      index: worker.index,
      count: worker.count,
      pid: process.pid,
      counters: 'this worker only',
    };
  }
  return totals;
}

/** Build the full `/status` body now. */
export function buildStatus(source: StatusSource): ProxyStatusJson {
  const targets = source.targets.all;
  let healthy = 0;
  const endpoints = targets.map((target) => {
    if (target.health.healthy) healthy++;
    return endpointStatus(target);
  });
  const { agents, uptime_seconds, ...rest } = statusTotals(source, targets.length, healthy);
  // The usage guide's order first: agents, uptime_seconds, endpoints.
  return { agents, uptime_seconds, endpoints, ...rest };
}
